"""Who may ask the JSON API what, over real HTTP: Spotilla's signed tokens, the pages' session and its CSRF value,
and an admin kept to its own organization on every endpoint the OpenAPI document lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from apiworld import (
    JWT_SECRET,
    ORGANIZATION,
    SWITCH_ON,
    ApiWorld,
    api,
    api_on_each_database,
    api_operations,
    claims,
    concrete,
    organization_operations,
    send,
    served_api,
    signed,
    sqlite_url,
    unchanging_api,
    unsigned,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from spotilla_procountor.adapters.web.auth import CSRF_HEADER, SESSION_COOKIE, Role, Tokens
from spotilla_procountor.app.cli import app as cli

pytestmark = pytest.mark.loopback
__all__ = ["api", "api_on_each_database", "unchanging_api"]  # fixtures

CHANGES = {"PUT", "POST", "DELETE", "PATCH"}
ANOTHER_ORGANIZATION = {"detail": "you may see only organization 1"}
NO_CSRF = {"detail": "the request has no valid CSRF token; reload the page and try again"}


# -- one organization's admin --------------------------------------------------------------------------------------


def test_an_admin_gets_403_on_another_organization_at_every_endpoint_with_every_method(
    api_on_each_database: ApiWorld,
) -> None:
    world = api_on_each_database
    before, asked = world.tables(), len(world.other_fake.request_log)
    with world.admin(1) as client:
        refused = {
            (method, path): (answer.status_code, answer.json())
            for method, path in organization_operations(world)
            for answer in [send(client, method, concrete(path, organization_id=2))]
        }
    assert refused == dict.fromkeys(refused, (403, ANOTHER_ORGANIZATION))
    assert world.tables() == before  # organization 2 is still on, nothing retried, no run asked for
    assert len(world.other_fake.request_log) == asked  # its Procountor company was not asked anything


def test_an_operator_reaches_every_endpoint_of_every_organization(api_on_each_database: ApiWorld) -> None:
    world = api_on_each_database
    with world.operator() as client:
        answers = {
            (method, path): send(client, method, concrete(path, organization_id=2, run_id=run_id)).status_code
            for run_id in [client.get("/api/v1/organizations/2/runs").json()[0]["id"]]
            for method, path in organization_operations(world)
        }
        everyone = client.get("/api/v1/organizations")
    assert {op: code for op, code in answers.items() if code in (401, 403) or code >= 500} == {}
    assert (everyone.status_code, [o["organization_id"] for o in everyone.json()]) == (200, [2])


def test_only_operators_list_every_organization(unchanging_api: ApiWorld) -> None:
    with unchanging_api.admin(1) as client:
        answer = client.get("/api/v1/organizations")
    assert (answer.status_code, answer.json()) == (403, {"detail": "only Spotilla's operators see every organization"})


def test_a_session_of_one_organization_is_refused_on_another_even_with_its_csrf_value(unchanging_api: ApiWorld) -> None:
    client, session = unchanging_api.session(1)
    with client:
        for method, path in organization_operations(unchanging_api):
            csrf = {CSRF_HEADER: session.principal.csrf or ""}
            answer = send(client, method, concrete(path, organization_id=2), **csrf)
            assert (method, path, answer.status_code, answer.json()) == (method, path, 403, ANOTHER_ORGANIZATION)


def test_a_token_printed_by_the_token_command_is_accepted_as_that_admin(
    unchanging_api: ApiWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_WEB_JWT_SECRET", JWT_SECRET)
    printed = CliRunner().invoke(cli, ["token", "--organization", "1", "--role", "admin"]).stdout.strip()
    with unchanging_api.client(printed) as client:
        answer = client.get("/api/v1/organizations/2/status")
    assert (answer.status_code, answer.json()) == (403, ANOTHER_ORGANIZATION)  # known as organization 1's admin


# -- tokens that are not Spotilla's, or not any more ---------------------------------------------------------------


def _rs256() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return signed(claims(), key, "RS256")


BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "expired": (lambda: signed(claims(exp=datetime.now(UTC) - timedelta(minutes=5))), "the token has expired"),
    "forged": (lambda: signed(claims(), "another-secret-of-thirty-two-bytes-at-least"), "signature is not valid"),
    "alg none": (lambda: unsigned(claims()), "the token is not valid"),
    "HS512": (lambda: signed(claims(), JWT_SECRET, "HS512"), "the token is not valid"),
    "RS256": (_rs256, "the token is not valid"),
    "no exp": (lambda: signed(claims(exp=None)), "the token has no 'exp' claim"),
    "no sub": (lambda: signed(claims(sub=None)), "the token has no 'sub' claim"),
    "no org": (lambda: signed(claims(org=None)), "the token has no 'org' claim"),
    "no role": (lambda: signed(claims(role=None)), "the token has no 'role' claim"),
    "org as string": (lambda: signed(claims(org="1")), "the token's 'org' claim is not an organization id"),
    "org zero": (lambda: signed(claims(org=0)), "the token's 'org' claim is not an organization id"),
    "unknown role": (lambda: signed(claims(role="owner")), "neither 'admin' nor 'operator'"),
    "empty subject": (lambda: signed(claims(sub=" ")), "the token's 'sub' claim is empty"),
    "valid too long": (
        lambda: signed(claims(exp=datetime.now(UTC) + timedelta(hours=2))),
        "the token is valid for longer than 1:00:00; sign-in tokens must be short-lived",
    ),
    "garbage": (lambda: "not-a-token", "the token is not valid"),
    # signed with the secret, but of shapes PyJWT lets through: 401, not a 500 (found by the review)
    "exp as a numeric string": (
        lambda: signed({**claims(), "exp": str(int((datetime.now(UTC) + timedelta(minutes=5)).timestamp()))}),
        "'exp' claim",
    ),
    "exp past year 9999": (lambda: signed({**claims(), "exp": 10**18}), "'exp' claim"),
    "role as a list": (lambda: signed(claims(role=["admin"])), "neither 'admin' nor 'operator'"),
    "role as an object": (lambda: signed(claims(role={"admin": True})), "neither 'admin' nor 'operator'"),
    "org beyond any id": (lambda: signed(claims(org=2**40)), "the token's 'org' claim is not an organization id"),
}


def assert_refused_401(answer: httpx.Response, words: str, token: str | None = None) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and words in detail
    if token:
        assert token not in answer.text and token not in str(answer.headers)


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_a_token_that_is_not_a_valid_short_lived_spotilla_token_gets_401_saying_why(
    unchanging_api: ApiWorld, case: str
) -> None:
    make, words = BAD_TOKENS[case]
    token = make()
    with unchanging_api.client(token) as client:
        for method, path in [("GET", f"{ORGANIZATION}/status"), ("DELETE", f"{ORGANIZATION}/integration")]:
            assert_refused_401(send(client, method, concrete(path, organization_id=1)), words, token)


def test_a_session_cookie_is_no_bearer_token_and_a_bearer_token_no_session_cookie(unchanging_api: ApiWorld) -> None:
    session = unchanging_api.new_session(1)
    with unchanging_api.client(session.cookie) as client:
        assert_refused_401(client.get("/api/v1/organizations/1/status"), "signature is not valid", session.cookie)
    token = unchanging_api.token(1)
    with unchanging_api.client(cookies={SESSION_COOKIE: token}) as client:
        assert_refused_401(client.get("/api/v1/organizations/1/status"), "signature is not valid", token)


def test_a_session_that_has_ended_gets_401(unchanging_api: ApiWorld) -> None:
    long_ago = Tokens(JWT_SECRET, session_lifetime=timedelta(minutes=-5))  # begun 8 hours and 5 minutes ago
    ended = long_ago.start_session(long_ago.verify(unchanging_api.token(1)))
    with unchanging_api.client(cookies={SESSION_COOKIE: ended.cookie}) as client:
        assert_refused_401(client.get("/api/v1/organizations/1/status"), "the token has expired", ended.cookie)


def test_no_token_gets_401_at_every_endpoint(unchanging_api: ApiWorld) -> None:
    with unchanging_api.client() as client:
        for method, path in api_operations(unchanging_api):
            answer = send(client, method, concrete(path, organization_id=1))
            assert_refused_401(answer, "no token: send Authorization: Bearer <token>, or open the page from Spotilla")
        basic = client.get("/api/v1/organizations/1/status", headers={"Authorization": "Basic YW5uYTpzYWxhaW5lbg=="})
        assert_refused_401(basic, "no token")


def test_without_web_jwt_secret_the_api_answers_503_and_health_still_serves(tmp_path: Path) -> None:
    with served_api(sqlite_url(tmp_path), jwt_secret=None) as world, world.client(world.token(1)) as client:
        for method, path in api_operations(world):
            answer = send(client, method, concrete(path, organization_id=1))
            assert (method, path, answer.status_code, answer.json()) == (
                method,
                path,
                503,
                {"detail": "sign-in is not set up on this service: WEB_JWT_SECRET is not configured"},
            )
        assert client.get("/healthz").status_code == 200
        document, operations = client.get("/openapi.json").json(), api_operations(world)
    undocumented = [(m, p) for m, p in operations if "503" not in document["paths"][p][m.lower()]["responses"]]
    assert undocumented == []  # Spotilla reading the document knows this answer


# -- the pages' session: a change needs its CSRF value ------------------------------------------------------------


WRONG_CSRF = [{}, {CSRF_HEADER: ""}, {CSRF_HEADER: "a-wrong-csrf-value-of-forty-three-characters-xx"}]


def test_a_change_with_the_session_cookie_but_without_its_csrf_value_gets_403_and_changes_nothing(
    api: ApiWorld,
) -> None:
    api.switch_on(1)
    before, asked = api.tables(), len(api.fake.request_log)
    client, _session = api.session(1)
    with client:
        for headers in WRONG_CSRF:
            for method, path in organization_operations(api):
                if method in CHANGES:
                    answer = send(client, method, concrete(path, organization_id=1), **headers)
                    assert (method, path, answer.status_code, answer.json()) == (method, path, 403, NO_CSRF)
    assert api.tables() == before  # still on, with the same settings; nothing retried, no run
    assert len(api.fake.request_log) == asked  # Procountor was not asked: no key checked, no preview, no run


def test_with_the_session_s_csrf_value_changes_go_through_and_reading_needs_none(api: ApiWorld) -> None:
    client, session = api.session(1)
    csrf = {CSRF_HEADER: session.principal.csrf or ""}
    with client:
        assert client.get("/api/v1/organizations/1/integration").json()["configured"] is False
        switched_on = client.put("/api/v1/organizations/1/integration", json=SWITCH_ON, headers=csrf)
        assert (switched_on.status_code, switched_on.json()["enabled"]) == (200, True)
        preview = client.post("/api/v1/organizations/1/sync", params={"dry_run": "true"}, headers=csrf)
        assert preview.status_code == 200 and preview.json()["would_create"]
        assert client.post("/api/v1/organizations/1/retry-failed", headers=csrf).status_code == 202
        switched_off = client.delete("/api/v1/organizations/1/integration", headers=csrf)
        assert (switched_off.status_code, switched_off.json()["enabled"]) == (200, False)
        assert client.get("/api/v1/organizations/1/status").status_code == 200
    stored = api.container.state().settings_row(1)
    assert stored is not None and not stored.enabled and stored.bank_account == "FI4950009420028730"


def test_another_session_s_csrf_value_does_not_open_this_one(unchanging_api: ApiWorld) -> None:
    client, _mine = unchanging_api.session(1)
    theirs = unchanging_api.new_session(1, Role.OPERATOR)
    with client:
        answer = client.delete(
            "/api/v1/organizations/1/integration", headers={CSRF_HEADER: theirs.principal.csrf or ""}
        )
    assert (answer.status_code, answer.json()) == (403, NO_CSRF)

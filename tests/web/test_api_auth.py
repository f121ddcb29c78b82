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
    ApiWorld,
    api,
    api_on_each_database,
    api_operations,
    claims,
    concrete,
    served_api,
    signed,
    sqlite_url,
    unsigned,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from spotilla_procountor.adapters.web.auth import CSRF_HEADER, SESSION_COOKIE, Role, Tokens
from spotilla_procountor.app.cli import app as cli

pytestmark = pytest.mark.loopback
__all__ = ["api", "api_on_each_database"]  # fixtures

ORGANIZATION = "/api/v1/organizations/{organization_id}"
CHANGES = {"PUT", "POST", "DELETE", "PATCH"}
ANOTHER_ORGANIZATION = {"detail": "you may see only organization 1"}
NO_CSRF = {"detail": "the request has no valid CSRF token; reload the page and try again"}


def send(client: httpx.Client, method: str, path: str, **headers: str) -> httpx.Response:
    """The request an honest client would send: a PUT carries a valid (empty) change."""
    return client.request(method, path, json={} if method == "PUT" else None, headers=headers)


def organization_operations(world: ApiWorld) -> list[tuple[str, str]]:
    operations = [(m, p) for m, p in api_operations(world) if p.startswith(ORGANIZATION)]
    assert len(operations) >= 10, f"the OpenAPI document lists too few organization endpoints: {operations}"
    return operations


# -- one organization's admin --------------------------------------------------------------------------------------


def test_an_admin_gets_403_on_another_organization_at_every_endpoint_with_every_method(
    api_on_each_database: ApiWorld,
) -> None:
    world = api_on_each_database
    with world.admin(1) as client:
        refused = {
            (method, path): (answer.status_code, answer.json())
            for method, path in organization_operations(world)
            for answer in [send(client, method, concrete(path, organization_id=2))]
        }
    assert refused == dict.fromkeys(refused, (403, ANOTHER_ORGANIZATION))


def test_only_operators_list_every_organization(api: ApiWorld) -> None:
    with api.admin(1) as client:
        answer = client.get("/api/v1/organizations")
    assert (answer.status_code, answer.json()) == (403, {"detail": "only Spotilla's operators see every organization"})


def test_a_session_of_one_organization_is_refused_on_another_even_with_its_csrf_value(api: ApiWorld) -> None:
    client, session = api.session(1)
    with client:
        for method, path in organization_operations(api):
            csrf = {CSRF_HEADER: session.principal.csrf or ""}
            answer = send(client, method, concrete(path, organization_id=2), **csrf)
            assert (method, path, answer.status_code, answer.json()) == (method, path, 403, ANOTHER_ORGANIZATION)


def test_a_token_printed_by_the_token_command_is_accepted_as_that_admin(
    api: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_WEB_JWT_SECRET", JWT_SECRET)
    printed = CliRunner().invoke(cli, ["token", "--organization", "1", "--role", "admin"]).stdout.strip()
    with api.client(printed) as client:
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
}


def assert_refused_401(answer: httpx.Response, words: str, token: str | None = None) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and words in detail
    if token:
        assert token not in answer.text and token not in str(answer.headers)


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_a_token_that_is_not_a_valid_short_lived_spotilla_token_gets_401_saying_why(api: ApiWorld, case: str) -> None:
    make, words = BAD_TOKENS[case]
    token = make()
    with api.client(token) as client:
        for method, path in [("GET", f"{ORGANIZATION}/status"), ("DELETE", f"{ORGANIZATION}/integration")]:
            assert_refused_401(send(client, method, concrete(path, organization_id=1)), words, token)


def test_a_session_cookie_is_no_bearer_token_and_a_bearer_token_no_session_cookie(api: ApiWorld) -> None:
    _client, session = api.session(1)
    with api.client(session.cookie) as client:
        assert_refused_401(client.get("/api/v1/organizations/1/status"), "signature is not valid", session.cookie)
    token = api.token(1)
    with api.client(cookies={SESSION_COOKIE: token}) as client:
        assert_refused_401(client.get("/api/v1/organizations/1/status"), "signature is not valid", token)


def test_a_session_that_has_ended_gets_401(api: ApiWorld) -> None:
    long_ago = Tokens(JWT_SECRET, session_lifetime=timedelta(minutes=-5))  # begun 8 hours and 5 minutes ago
    ended = long_ago.start_session(long_ago.verify(api.token(1)))
    with api.client(cookies={SESSION_COOKIE: ended.cookie}) as client:
        assert_refused_401(client.get("/api/v1/organizations/1/status"), "the token has expired", ended.cookie)


def test_no_token_gets_401_at_every_endpoint(api: ApiWorld) -> None:
    with api.client() as client:
        for method, path in api_operations(api):
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


# -- the pages' session: a change needs its CSRF value ------------------------------------------------------------


@pytest.mark.parametrize("csrf", [None, "", "a-wrong-csrf-value-of-forty-three-characters-xx"])
def test_a_change_with_the_session_cookie_but_without_its_csrf_value_gets_403(api: ApiWorld, csrf: str | None) -> None:
    client, _session = api.session(1)
    headers = {} if csrf is None else {CSRF_HEADER: csrf}
    with client:
        for method, path in organization_operations(api):
            if method not in CHANGES:
                continue
            answer = send(client, method, concrete(path, organization_id=1), **headers)
            assert (method, path, answer.status_code, answer.json()) == (method, path, 403, NO_CSRF)


def test_another_session_s_csrf_value_does_not_open_this_one(api: ApiWorld) -> None:
    client, _mine = api.session(1)
    _other, theirs = api.session(1, Role.OPERATOR)
    with client:
        answer = client.delete(
            "/api/v1/organizations/1/integration", headers={CSRF_HEADER: theirs.principal.csrf or ""}
        )
    assert (answer.status_code, answer.json()) == (403, NO_CSRF)

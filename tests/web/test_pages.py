"""The pages over HTTP, without a browser: signing in through /launch, the session cookie, refusals as pages in the
user's language, the security headers, no inline script, and never a secret or token in a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from web_world import API_KEY, CLIENT_SECRET, IBAN, ORG, OTHER_ORG, Stack

from spotilla_procountor.adapters.web.app import create_app
from spotilla_procountor.adapters.web.auth import CSRF_HEADER, SESSION_COOKIE, Role, Tokens
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.web import integration_admin

pytestmark = [pytest.mark.loopback]
SIGN_IN_AGAIN = {"fi": "Avaa sivu uudelleen Spotillasta", "en": "Open the page from Spotilla again"}


@pytest.fixture
def http(sqlite_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sqlite_stack.url, follow_redirects=False, timeout=30) as client:
        yield client


def signed_in(http: httpx.Client, stack: Stack, role: Role = Role.ADMIN) -> str:
    """Signs the client in through /launch; the CSRF value of its pages."""
    answer = http.get(stack.launch_url(role=role).removeprefix(stack.url))
    assert answer.status_code == 303
    page = http.get(answer.headers["location"])
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)


def switch_on(http: httpx.Client, stack: Stack) -> None:
    csrf = signed_in(http, stack)
    change = {"api_key": API_KEY, "environment": "test", "bank_account": IBAN, "tasks_completed_from": "2000-01-01"}
    answer = http.put(f"/api/v1/organizations/{ORG}/integration", json=change, headers={CSRF_HEADER: csrf})
    assert answer.status_code == 200, answer.text
    stack.container.sync_service().sync(ORG)


def test_launch_signs_the_admin_in_and_sends_it_to_its_organizations_page(http: httpx.Client, sqlite_stack: Stack):
    token_url = sqlite_stack.launch_url(role=Role.ADMIN).removeprefix(sqlite_stack.url)

    answer = http.get(token_url)

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/organizations/{ORG}/integration"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert re.search(r"; HttpOnly", cookie) and re.search(r"; Path=/(;|$)", cookie)
    assert re.search(r"; SameSite=lax", cookie, re.IGNORECASE)
    assert 8 * 3600 - 60 <= int(re.search(r"Max-Age=(\d+)", cookie).group(1)) <= 8 * 3600
    assert "Secure" not in cookie  # reached on loopback: a plain-http demo still signs in
    assert (answer.headers["referrer-policy"], answer.headers["cache-control"]) == ("no-referrer", "no-store")
    token = token_url.partition("token=")[2]
    assert token not in answer.text and token not in answer.headers["location"]
    assert http.get(answer.headers["location"]).status_code == 200


def test_launch_sends_an_operator_to_the_overview(http: httpx.Client, sqlite_stack: Stack) -> None:
    answer = http.get(sqlite_stack.launch_url(role=Role.OPERATOR).removeprefix(sqlite_stack.url))
    assert (answer.status_code, answer.headers["location"]) == (303, "/operator")


@pytest.mark.parametrize(
    ("host", "secure"),
    [("127.0.0.1", False), ("localhost", False), ("[::1]", False), ("integrations.spotilla.example", True)],
)
def test_the_session_cookie_is_secure_unless_the_service_is_reached_on_loopback(
    http: httpx.Client, sqlite_stack: Stack, host: str, secure: bool
) -> None:
    token_url = sqlite_stack.launch_url().removeprefix(sqlite_stack.url)
    answer = http.get(token_url, headers={"Host": host})
    assert answer.status_code == 303
    assert ("; Secure" in answer.headers["set-cookie"]) is secure


def test_behind_a_tls_proxy_on_this_machine_the_session_cookie_is_secure(
    http: httpx.Client, sqlite_stack: Stack
) -> None:
    """nginx's default `Host: $proxy_host` looks like a browser on this machine; its X-Forwarded-Proto does not."""
    token_url = sqlite_stack.launch_url().removeprefix(sqlite_stack.url)
    answer = http.get(token_url, headers={"Host": "127.0.0.1:8080", "X-Forwarded-Proto": "https"})
    assert answer.status_code == 303
    assert "; Secure" in answer.headers["set-cookie"]


def _tokens_that_do_not_sign_in(stack: Stack) -> dict[str, str]:
    other = Tokens("another-secret-that-is-long-enough-for-hs256-keys")
    return {
        "expired": stack.tokens.issue(subject="a", organization_id=ORG, role=Role.ADMIN, lifetime=-timedelta(hours=1)),
        "forged": other.issue(subject="a", organization_id=ORG, role=Role.ADMIN),
        "garbage": "not-a-token",
        "missing": "",
    }


@pytest.mark.parametrize(("accept_language", "language"), [(None, "fi"), ("en-GB,en;q=0.9", "en"), ("sv", "fi")])
def test_a_sign_in_link_that_does_not_sign_in_gets_a_401_page_in_the_users_language(
    http: httpx.Client, sqlite_stack: Stack, accept_language: str | None, language: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    for why, token in _tokens_that_do_not_sign_in(sqlite_stack).items():
        answer = http.get("/launch", params={"token": token} if token else None, headers=headers)
        assert answer.status_code == 401, why
        assert "set-cookie" not in answer.headers, why
        assert f'<html lang="{language}">' in answer.text, why
        assert SIGN_IN_AGAIN[language] in answer.text, why
        assert not token or token not in answer.text, why
        assert answer.headers["cache-control"] == "no-store", why


def test_pages_without_a_session_say_to_open_them_from_spotilla(http: httpx.Client) -> None:
    for path in (f"/organizations/{ORG}/integration", f"/organizations/{ORG}/runs/1", "/operator"):
        answer = http.get(path)
        assert answer.status_code == 401, path
        assert SIGN_IN_AGAIN["fi"] in answer.text, path
    http.cookies.set(SESSION_COOKIE, "made.up.value")
    assert http.get(f"/organizations/{ORG}/integration").status_code == 401


def test_an_admin_gets_403_pages_for_another_organization_and_the_overview(http: httpx.Client, sqlite_stack: Stack):
    generate_demo_data(sqlite_stack.engine, organization_id=OTHER_ORG, size=DemoSize(1, 1, 1))
    signed_in(http, sqlite_stack)
    for path in (f"/organizations/{OTHER_ORG}/integration", f"/organizations/{OTHER_ORG}/runs/1", "/operator"):
        answer = http.get(path, headers={"Accept-Language": "en"})
        assert answer.status_code == 403, path
        assert "You may see only your own organization" in answer.text, path


def test_a_run_or_organization_that_does_not_exist_is_a_404_page(http: httpx.Client, sqlite_stack: Stack) -> None:
    switch_on(http, sqlite_stack)
    assert http.get(f"/organizations/{ORG}/runs/1").status_code == 200
    never = (f"/organizations/{ORG}/runs/999", f"/organizations/{ORG}/runs/{2**63}", f"/organizations/{2**40}/runs/1")
    for path in never:
        answer = http.get(path)
        assert answer.status_code == 404, path
        assert "Sivua ei löydy" in answer.text, path


class _Markup(HTMLParser):
    """What the content security policy would refuse, were it not there: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.refused.append("an inline <script>")
        if tag == "style":
            self.refused.append("a <style> element")
        self.refused += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]
        for name in ("src", "href"):
            if (names.get(name) or "").startswith(("http:", "https:", "//", "javascript:")):
                self.refused.append(f"{tag} {name}={names[name]}")


def test_every_page_forbids_inline_script_and_anything_from_elsewhere(http: httpx.Client, sqlite_stack: Stack):
    answers = {"401 page": http.get("/operator")}
    signed_in(http, sqlite_stack)
    answers["switched off"] = http.get(f"/organizations/{ORG}/integration")
    switch_on(http, sqlite_stack)
    answers["switched on"] = http.get(f"/organizations/{ORG}/integration")
    answers["run"] = http.get(f"/organizations/{ORG}/runs/1")
    signed_in(http, sqlite_stack, Role.OPERATOR)
    answers["overview"] = http.get("/operator")

    for page, answer in answers.items():
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy, page
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, page
        assert answer.headers["referrer-policy"] == "no-referrer", page
        assert answer.headers["cache-control"] == "no-store", page
        markup = _Markup()
        markup.feed(answer.text)
        assert markup.refused == [], page


def test_no_page_shows_the_api_key_a_secret_or_a_token(http: httpx.Client, sqlite_stack: Stack) -> None:
    switch_on(http, sqlite_stack)
    session = http.cookies[SESSION_COOKIE]
    secret = sqlite_stack.container.settings().web_jwt_secret.get_secret_value()
    pages = [f"/organizations/{ORG}/integration", f"/organizations/{ORG}/runs/1"]
    texts = [http.get(path).text for path in pages]
    signed_in(http, sqlite_stack, Role.OPERATOR)
    texts.append(http.get("/operator").text)

    for shown in texts:
        for canary in (API_KEY, CLIENT_SECRET, secret, session):
            assert canary not in shown
    assert 'name="api_key"' in texts[0] and 'value="' + API_KEY not in texts[0]


def test_the_page_carries_the_sessions_csrf_value_which_changes_need(http: httpx.Client, sqlite_stack: Stack):
    csrf = signed_in(http, sqlite_stack)
    change = {"api_key": API_KEY, "bank_account": IBAN}
    url = f"/api/v1/organizations/{ORG}/integration"

    assert http.put(url, json=change).status_code == 403
    assert http.put(url, json=change, headers={CSRF_HEADER: csrf[::-1]}).status_code == 403
    assert http.put(url, json=change, headers={CSRF_HEADER: csrf}).status_code == 200


def test_without_web_jwt_secret_the_pages_say_that_sign_in_is_not_set_up(sqlite_stack: Stack) -> None:
    admin = integration_admin(sqlite_stack.container)
    app = create_app(readiness=_Ready(), registry=CollectorRegistry(), admin=lambda: admin, tokens=lambda: None)
    client = TestClient(app, base_url="http://127.0.0.1")
    for path in ("/launch?token=anything", f"/organizations/{ORG}/integration"):
        answer = client.get(path, headers={"Accept-Language": "en"}, follow_redirects=False)
        assert answer.status_code == 503, path
        assert "WEB_JWT_SECRET" in answer.text, path


class _Ready:
    def reasons(self) -> list[str]:
        return []


def test_the_script_and_styles_are_served_from_the_service_itself(http: httpx.Client) -> None:
    script, styles = http.get("/static/app.js"), http.get("/static/app.css")
    assert script.status_code == styles.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert styles.headers["content-type"].startswith("text/css")
    assert "X-CSRF-Token" in script.text


def test_a_database_that_does_not_answer_is_a_503_page_not_a_traceback(http: httpx.Client, sqlite_stack: Stack):
    signed_in(http, sqlite_stack)
    with sqlite_stack.engine.begin() as conn:
        conn.execute(text("ALTER TABLE organizations RENAME TO organizations_away"))
    answer = http.get(f"/organizations/{ORG}/integration", headers={"Accept-Language": "en"})
    assert answer.status_code == 503
    assert "The service cannot read its data at the moment" in answer.text

"""The pages of Settings → Integrations: `/launch` signs Spotilla's user in, then the organization's *Procountor
integration* page, a run's detail and the operators' overview, rendered on the server from Jinja2 templates.

The pages read through the same use cases as the JSON API (`IntegrationAdmin`); everything they change goes through
the API (`/api/v1/...`) from `static/app.js`, with the session cookie and the page's CSRF value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from spotilla_procountor.adapters.web.api import INT32, Guard, Problem
from spotilla_procountor.adapters.web.auth import SESSION_COOKIE, NotAuthenticated, Principal, Role, Tokens
from spotilla_procountor.adapters.web.i18n import HELSINKI, Texts, negotiate, reason_sentences
from spotilla_procountor.app.admin import EventView, IntegrationAdmin, ItemState, ItemView, NotConfigured
from spotilla_procountor.domain.errors import RepositoryError

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
"""Hosts a session cookie may go to without `Secure`: the browser and the service on one machine (demos, tests)."""

PAGE_HEADERS = {
    # Scripts and styles only from our own files: no inline script, no inline style, nothing from elsewhere.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # the launch URL carries a token; no page tells another where it came from
    "Cache-Control": "no-store",  # an organization's data stays out of shared and back-button caches
    "X-Content-Type-Options": "nosniff",
    "Vary": "Accept-Language, Cookie",
}
ERROR_PAGES = {
    "launch": "error.launch",  # the sign-in link from Spotilla is expired, forged or cut short
    401: "error.signed_out",
    403: "error.forbidden",
    404: "error.not_found",
    503: "error.not_set_up",
    "unavailable": "error.unavailable",  # the database did not answer
}
"""Each refusal's texts: `KEY.title` and `KEY.text` in the catalogues."""
SCRIPT_TEXTS = ("js.", "kind.", "outcome.", "flow.")
"""The catalogue entries the page's script needs (it renders answers of the API); handed over as JSON data."""


_PROBLEMS_FIRST = {"FAILED": 0, "HELD_BACK": 1}


class Refused(Exception):
    """The signed-in user may not see this page (403), or it does not exist (404)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True, slots=True)
class WaitingItems:
    """The items that wait, as the page shows them: each state apart, and tasks completed before the start day
    (never invoiced) apart from the held-back ones that someone can fix."""

    held_back: list[ItemView]
    failed: list[ItemView]
    in_doubt: list[ItemView]
    before_start_day: list[ItemView]

    @classmethod
    def of(cls, items: list[ItemView]) -> WaitingItems:
        def where(state: ItemState) -> list[ItemView]:
            return [i for i in items if i.state == state and not i.before_start_day]

        before = [i for i in items if i.before_start_day]
        return cls(where(ItemState.HELD_BACK), where(ItemState.FAILED), where(ItemState.IN_DOUBT), before)


def pages_router(admin: Callable[[], IntegrationAdmin], guard: Guard, tokens: Callable[[], Tokens | None]) -> APIRouter:
    """The routes of the pages (left out of the OpenAPI document, which describes the JSON API)."""
    router = APIRouter(include_in_schema=False)
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.filters["iban"] = _iban

    def render(request: Request, name: str, principal: Principal | None = None, code: int = 200, **context) -> Response:
        texts = Texts(negotiate(request.headers.get("accept-language")))
        context |= {"t": texts, "principal": principal, "operator": principal and principal.role == Role.OPERATOR}
        context["script_texts"] = {k: v for prefix in SCRIPT_TEXTS for k, v in texts.subset(prefix).items()}
        context["script_reasons"] = reason_sentences(texts.language)
        response = templates.TemplateResponse(request, name, context, status_code=code)
        response.headers.update(PAGE_HEADERS)
        return response

    def page(request: Request, build: Callable[[Principal], tuple[str, dict]]) -> Response:
        """A page for the session's user; the refusals as pages in the user's language."""
        try:
            principal = guard.principal(request, None)
        except Problem as exc:  # 401: no or an ended session; 503: sign-in not set up
            return refuse(request, exc.status)
        try:
            name, context = build(principal)
        except Refused as exc:
            return refuse(request, exc.status, principal)
        except NotConfigured:
            return refuse(request, 404, principal)
        except RepositoryError:
            return refuse(request, "unavailable", principal)
        return render(request, name, principal, **context)

    def refuse(request: Request, problem: int | str, principal: Principal | None = None) -> Response:
        status = problem if isinstance(problem, int) else {"launch": 401, "unavailable": 503}[problem]
        key = ERROR_PAGES[problem]
        return render(request, "error.html", principal, code=status, title=f"{key}.title", text=f"{key}.text")

    @router.get("/launch")
    def launch(request: Request, token: str = "") -> Response:
        """Turns Spotilla's sign-in token into a session cookie and sends the browser on to the user's page (303),
        so the token leaves the address bar and the history; never shows the token back."""
        issuer = tokens()
        if issuer is None:
            return refuse(request, 503)
        try:
            principal = issuer.verify(token)
        except NotAuthenticated:
            return refuse(request, "launch")
        session = issuer.start_session(principal)
        response = RedirectResponse(_home(principal), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session.cookie,
            max_age=max(0, int((session.expires_at - datetime.now(UTC)).total_seconds())),
            path="/",
            secure=_over_tls(request),
            httponly=True,
            samesite="lax",
        )
        response.headers.update(PAGE_HEADERS)
        return response

    @router.get("/organizations/{organization_id}/integration", response_class=HTMLResponse)
    def integration(request: Request, organization_id: int) -> Response:
        def build(principal: Principal) -> tuple[str, dict]:
            _may_see(principal, organization_id)
            return "integration.html", _integration(admin(), organization_id)

        return page(request, build)

    @router.get("/organizations/{organization_id}/runs/{run_id}", response_class=HTMLResponse)
    def run(request: Request, organization_id: int, run_id: int) -> Response:
        def build(principal: Principal) -> tuple[str, dict]:
            _may_see(principal, organization_id, run_id)
            found = admin().run(organization_id, run_id)
            return "run.html", {"org": organization_id, "run": found, "flows": _by_flow(found.events)}

        return page(request, build)

    @router.get("/operator", response_class=HTMLResponse)
    def operator(request: Request) -> Response:
        def build(principal: Principal) -> tuple[str, dict]:
            if principal.role != Role.OPERATOR:
                raise Refused(403)
            return "operator.html", {"organizations": admin().organizations()}

        return page(request, build)

    return router


def _over_tls(request: Request) -> bool:
    """Whether the cookie must be `Secure`: always, but for a browser on this very machine over plain http (demos,
    tests). A proxy on the same machine that terminates TLS says so with `X-Forwarded-Proto: https` (nginx sends
    `Host: 127.0.0.1:…` by default, which alone would look like a browser here)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.hostname not in LOOPBACK_HOSTS or forwarded == "https" or request.url.scheme == "https"


def _home(principal: Principal) -> str:
    if principal.role == Role.OPERATOR:
        return "/operator"
    return f"/organizations/{principal.organization_id}/integration"


def _may_see(principal: Principal, organization_id: int, run_id: int = 1) -> None:
    """403 for another organization's page; 404 for an id no column holds (typed in by hand, not a database error)."""
    if not (1 <= organization_id <= INT32 and 1 <= run_id <= INT32):
        raise Refused(404)
    if not principal.may_see(organization_id):
        raise Refused(403)


def _integration(admin: IntegrationAdmin, organization_id: int) -> dict:
    view = admin.integration(organization_id)
    context: dict = {"org": organization_id, "integration": view, "today": _helsinki_today()}
    if view.enabled:
        context |= {
            "status": admin.status(organization_id),
            "items": WaitingItems.of(admin.items(organization_id)),
            "runs": admin.runs(organization_id),
        }
    elif view.configured:
        context["runs"] = admin.runs(organization_id)
    return context


def _by_flow(events: list[EventView]) -> list[tuple[str, list[EventView]]]:
    """A run's events by flow, in the order the run went; in each, what failed or was held back first."""
    flows: dict[str, list[EventView]] = {}
    for event in events:
        flows.setdefault(event.flow, []).append(event)
    return [(flow, sorted(found, key=lambda e: _PROBLEMS_FIRST.get(e.outcome, 2))) for flow, found in flows.items()]


def _iban(value: str) -> str:
    """An IBAN in groups of four, as it is printed on paper and read aloud."""
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def _helsinki_today() -> date:
    return datetime.now(HELSINKI).date()

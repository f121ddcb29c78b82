"""The JSON API of Settings → Integrations: `/api/v1/...`, described at `/openapi.json`.

Spotilla calls it with `Authorization: Bearer <token>`; the pages call it with their session cookie and the
`X-CSRF-Token` header. An admin reaches only its own organization (403 otherwise), an operator every one.
"""

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from spotilla_procountor.adapters.web.auth import (
    CSRF_HEADER,
    SESSION_COOKIE,
    NotAuthenticated,
    Principal,
    Role,
    Tokens,
)
from spotilla_procountor.app.admin import (
    Busy,
    Conflict,
    FieldErrors,
    IntegrationAdmin,
    IntegrationChange,
    IntegrationView,
    ItemKind,
    ItemState,
    ItemView,
    NotConfigured,
    OrganizationView,
    PreviewView,
    RetryAnswer,
    RunDetail,
    RunRequestAnswer,
    RunRequestOutcome,
    RunView,
    StatusView,
    Unavailable,
)
from spotilla_procountor.domain.errors import RepositoryError

log = logging.getLogger("spotilla_procountor.web")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
INT32, INT64 = 2**31 - 1, 2**63 - 1
# Path ids within what their columns hold: a larger one is 422 here, not the database's overflow (a 5xx).
OrganizationId = Annotated[int, Path(ge=1, le=INT32, description="Spotilla organization id.")]
SpotillaId = Annotated[int, Path(ge=1, le=INT64, description="The task's, customer's or product's Spotilla id.")]
RunId = Annotated[int, Path(ge=1, le=INT32)]
_bearer = HTTPBearer(auto_error=False, description="A token signed by Spotilla (HS256, WEB_JWT_SECRET).")


class Problem(Exception):
    """An answer other than 2xx with a sentence for people: `{"detail": "..."}`."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


class Guard:
    """FastAPI dependencies deciding who asks and what they may reach."""

    def __init__(self, tokens: Callable[[], Tokens | None]) -> None:
        self._tokens = tokens

    def principal(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        """The user of a Bearer token, else of the session cookie (then a change needs the CSRF header)."""
        tokens = self._tokens()
        if tokens is None:
            raise Problem(503, "sign-in is not set up on this service: WEB_JWT_SECRET is not configured")
        try:
            if bearer is not None:
                return tokens.verify(bearer.credentials)
            cookie = request.cookies.get(SESSION_COOKIE)
            if not cookie:
                raise NotAuthenticated("no token: send Authorization: Bearer <token>, or open the page from Spotilla")
            principal = tokens.session(cookie)
        except NotAuthenticated as exc:
            raise Problem(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None
        if request.method not in SAFE_METHODS and not tokens.csrf_matches(principal, request.headers.get(CSRF_HEADER)):
            raise Problem(403, "the request has no valid CSRF token; reload the page and try again")
        return principal


def _answer_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)


def _answer_field_errors(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldErrors)
    return JSONResponse({"detail": [p.model_dump() for p in exc.problems]}, status_code=422)


def _answer_invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 without the `input` it refused (an API key sent as a number would come back in it)."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
    ]
    return JSONResponse({"detail": problems}, status_code=422)


def _answer_database_away(request: Request, exc: Exception) -> JSONResponse:
    """503 in a sentence for anyone; the driver's words (tables, hosts, users) only in the operators' log."""
    log.error("database error while answering %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": "the database did not answer; try again in a moment"}, status_code=503)


def _answer(status: int) -> Callable[[Request, Exception], JSONResponse]:
    def answer(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return answer


def install_error_answers(app: FastAPI) -> None:
    """The application's refusals as HTTP answers with a sentence (never a traceback, never a secret)."""
    app.add_exception_handler(Problem, _answer_problem)
    app.add_exception_handler(FieldErrors, _answer_field_errors)
    app.add_exception_handler(RequestValidationError, _answer_invalid_request)
    app.add_exception_handler(NotConfigured, _answer(404))
    app.add_exception_handler(Conflict, _answer(409))
    app.add_exception_handler(Unavailable, _answer(503))
    app.add_exception_handler(Busy, _answer(429))
    app.add_exception_handler(RepositoryError, _answer_database_away)


_ERRORS = {
    401: {"description": "Missing, expired or forged token."},
    403: {"description": "Another organization's, an operator's endpoint, or no CSRF token with a session."},
    503: {"description": "Sign-in is not set up (WEB_JWT_SECRET), or the database does not answer."},
}


def api_router(admin: Callable[[], IntegrationAdmin], guard: Guard) -> APIRouter:
    """The `/api/v1` routes over the admin use cases."""
    router = APIRouter(prefix="/api/v1", tags=["integration"], responses=_ERRORS)  # type: ignore[arg-type]
    Who = Annotated[Principal, Depends(guard.principal)]

    def org_of(organization_id: OrganizationId, principal: Who) -> int:
        if not principal.may_see(organization_id):
            raise Problem(403, f"you may see only organization {principal.organization_id}")
        return organization_id

    Org = Annotated[int, Depends(org_of)]
    NOT_FOUND = {404: {"description": "No such organization, it never switched the integration on, or no such item."}}
    SWITCHED_OFF = {409: {"description": "The integration is switched off: nothing is run."}}

    @router.get("/organizations", response_model=list[OrganizationView])
    def organizations(principal: Who) -> list[OrganizationView]:
        """Every organization that switched the integration on; those needing attention first. Operators only."""
        if principal.role != Role.OPERATOR:
            raise Problem(403, "only Spotilla's operators see every organization")
        return admin().organizations()

    @router.get("/organizations/{organization_id}/integration", response_model=IntegrationView, responses=NOT_FOUND)
    def get_integration(org: Org) -> IntegrationView:
        """The settings, without secrets (`configured: false` when never switched on)."""
        return admin().integration(org)

    @router.put(
        "/organizations/{organization_id}/integration",
        response_model=IntegrationView,
        responses={
            400: {"description": "The body is not JSON (not even UTF-8 text)."},
            **NOT_FOUND,
            409: {"description": "Another company's API key without `switch_company`, or a run is under way."},
            503: {"description": "Procountor did not answer; nothing was stored."},
        },
    )
    def put_integration(org: Org, change: IntegrationChange) -> IntegrationView:
        """Switches on, or changes settings. The credentials are checked with Procountor before they are stored;
        422 with field errors when something is wrong."""
        return admin().configure(org, change)

    @router.delete("/organizations/{organization_id}/integration", response_model=IntegrationView, responses=NOT_FOUND)
    def delete_integration(org: Org) -> IntegrationView:
        """Switches off; links and history are kept, so switching on again goes on where it stopped."""
        return admin().switch_off(org)

    @router.get("/organizations/{organization_id}/status", response_model=StatusView, responses=NOT_FOUND)
    def status(org: Org) -> StatusView:
        """Last runs, next run, counts, and whether (and why) it needs attention."""
        return admin().status(org)

    @router.get("/organizations/{organization_id}/items", response_model=list[ItemView], responses=NOT_FOUND)
    def items(org: Org, state: Annotated[list[ItemState] | None, Query()] = None) -> list[ItemView]:
        """Items that wait: held back for their data, failed, or in doubt; all three unless `state` says."""
        return admin().items(org, state)

    @router.post(
        "/organizations/{organization_id}/items/{kind}/{spotilla_id}/retry",
        response_model=RetryAnswer,
        status_code=202,
        responses={**NOT_FOUND, **SWITCHED_OFF},
    )
    def retry(org: Org, kind: ItemKind, spotilla_id: SpotillaId) -> RetryAnswer:
        """Tries the item again in a run queued now."""
        return admin().retry(org, kind, spotilla_id)

    @router.post(
        "/organizations/{organization_id}/retry-failed",
        response_model=RetryAnswer,
        status_code=202,
        responses={**NOT_FOUND, **SWITCHED_OFF},
    )
    def retry_failed(org: Org) -> RetryAnswer:
        """Tries every failed and held-back item again in a run queued now."""
        return admin().retry_failed(org)

    @router.post(
        "/organizations/{organization_id}/sync",
        response_model=RunRequestAnswer | PreviewView,
        status_code=202,
        responses={
            200: {"description": "The preview (`dry_run=true`).", "model": PreviewView},
            429: {"description": "A run of the organization is already queued, or (dry_run) a preview is being made."},
            **NOT_FOUND,
            **SWITCHED_OFF,
        },
    )
    def sync(org: Org, dry_run: bool = False) -> JSONResponse:
        """Queues a run now (202); with `dry_run=true` answers at once with what the next run would do (200)."""
        if dry_run:
            return JSONResponse(admin().preview(org).model_dump(mode="json"), status_code=200)
        answer = admin().request_run(org)
        code = 429 if answer.outcome == RunRequestOutcome.ALREADY_QUEUED else 202
        return JSONResponse(answer.model_dump(mode="json"), status_code=code)

    @router.get("/organizations/{organization_id}/runs", response_model=list[RunView], responses=NOT_FOUND)
    def runs(org: Org, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[RunView]:
        """The newest runs, newest first."""
        return admin().runs(org, limit)

    @router.get("/organizations/{organization_id}/runs/{run_id}", response_model=RunDetail, responses=NOT_FOUND)
    def run(org: Org, run_id: RunId) -> RunDetail:
        """One run with its per-item events."""
        return admin().run(org, run_id)

    return router

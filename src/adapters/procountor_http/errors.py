"""HTTP statuses and transport failures classified into the domain's Procountor errors, in one table."""

from __future__ import annotations

import json
from enum import Enum

import httpx

from spotilla_procountor.domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    NotFound,
    ProcountorError,
    ProcountorRejected,
    TemporarilyUnavailable,
)

AUTH_REFUSED = "Procountor refused the client id, client secret or API key"
_MAX_TEXT = 300


class Verdict(Enum):
    """What the choke point does with an answer."""

    OK = "ok"
    RETRY = "retry"
    """Transient: nothing was done (429) or the server failed (5xx); GETs retry, creates may not."""
    REAUTHENTICATE = "reauthenticate"
    FAIL = "fail"


# The one table. Anything not listed: 2xx is OK, 5xx is RETRY, every other status FAILs as rejected.
_FAILURES: dict[int, type[ProcountorError]] = {
    400: ProcountorRejected,
    403: AccessDenied,
    404: NotFound,
    409: ProcountorRejected,
}
_RETRIABLE = frozenset({429}) | frozenset(range(500, 600))


def verdict(status: int) -> Verdict:
    """The decision for an HTTP status."""
    if 200 <= status < 300:
        return Verdict.OK
    if status == 401:
        return Verdict.REAUTHENTICATE
    if status in _RETRIABLE:
        return Verdict.RETRY
    return Verdict.FAIL


def error_for(response: httpx.Response, what: str) -> ProcountorError:
    """The domain error for a non-success answer to `what` (e.g. "POST /invoices"); never echoes a request."""
    status = response.status_code
    if status == 401:
        return AuthenticationFailed(f"{AUTH_REFUSED} ({what} answered 401)")
    if status in _RETRIABLE:
        return TemporarilyUnavailable(f"Procountor answered {status} to {what}; try again later")
    kind = _FAILURES.get(status, ProcountorRejected)
    if kind is ProcountorRejected:
        return ProcountorRejected(procountor_errors(response) or [(None, f"{what} answered {status}")])
    return kind(f"Procountor answered {status} to {what}: {_summary(response)}")


def token_error_for(response: httpx.Response) -> ProcountorError:
    """The domain error for a failed token request; the body is not read, so nothing of ours is echoed."""
    status = response.status_code
    if status in (400, 401):
        return AuthenticationFailed(AUTH_REFUSED)
    if status == 404:
        return AuthenticationFailed("Procountor has no token endpoint at this address; check base_url and api_prefix")
    if status in _RETRIABLE:
        return TemporarilyUnavailable(f"Procountor's token endpoint answered {status}; try again later")
    return AuthenticationFailed(f"Procountor's token endpoint answered {status}")


def transport_error(exc: httpx.HTTPError, what: str) -> TemporarilyUnavailable:
    """A network failure after the retries ran out."""
    return TemporarilyUnavailable(f"Procountor could not be reached for {what} ({type(exc).__name__})")


def certainly_not_sent(exc: httpx.HTTPError) -> bool:
    """True when the request never reached the server's logic, so even a create may be sent again."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def procountor_errors(response: httpx.Response) -> list[tuple[str | None, str]]:
    """Procountor's [(field, message)] from any of the error shapes seen in the wild."""
    try:
        body = json.loads(response.content.decode("utf-8", errors="replace"))
    except ValueError:
        text = response.content.decode("utf-8", errors="replace").strip()
        return [(None, text[:_MAX_TEXT])] if text else []
    return _from_json(body)


def _from_json(body: object) -> list[tuple[str | None, str]]:
    """`errors[]{field, message}`, `constraintViolations[]{field, errorCode}` or OAuth `error`."""
    if not isinstance(body, dict):
        return [(None, str(body)[:_MAX_TEXT])] if body else []
    found: list[tuple[str | None, str]] = []
    for key, message_key in (("errors", "message"), ("constraintViolations", "errorCode")):
        entries = body.get(key)
        if isinstance(entries, list):
            found += [_entry(item, message_key) for item in entries]
    if not found and body.get("error"):
        description = body.get("error_description")
        found.append((None, f"{body['error']}: {description}" if description else str(body["error"])))
    if not found and isinstance(body.get("message"), str):
        found.append((body.get("field") if isinstance(body.get("field"), str) else None, body["message"]))
    return found


def _entry(item: object, message_key: str) -> tuple[str | None, str]:
    """One (field, message) pair, tolerant of missing keys."""
    if not isinstance(item, dict):
        return (None, str(item)[:_MAX_TEXT])
    field = item.get("field")
    message = item.get(message_key) or item.get("message") or item.get("errorCode") or "invalid"
    return (str(field) if field else None, str(message)[:_MAX_TEXT])


def _summary(response: httpx.Response) -> str:
    """A short readable reason from the answer body."""
    pairs = procountor_errors(response)
    return "; ".join(f"{f}: {m}" if f else m for f, m in pairs) or "no details"

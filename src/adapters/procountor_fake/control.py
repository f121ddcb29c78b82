"""Run-time control API under /_fake, for tests and demos in other processes."""

# Deliberately unauthenticated: the fake is a loopback demo tool and must never face a network.
# Endpoints: GET /_fake/state, GET /_fake/requests, GET|PUT /_fake/faults,
# POST /_fake/partners/{id}/edit, POST /_fake/reset, POST /_fake/clock {"advanceSeconds": n}.

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from .faults import FaultPlan
from .messages import ApiError, FakeRequest, FakeResponse, json_object, json_response

if TYPE_CHECKING:
    from .fake import FakeProcountor

_EDIT = re.compile(r"^/_fake/partners/(?P<id>\d+)/edit/?$")


def handle_control(fake: "FakeProcountor", request: FakeRequest) -> FakeResponse:
    """Dispatch one control request."""
    try:
        return _dispatch(fake, request)
    except ApiError as exc:
        return exc.response()


def _dispatch(fake: "FakeProcountor", request: FakeRequest) -> FakeResponse:
    """Route by method and path."""
    path = request.path.rstrip("/")
    match (request.method, path):
        case ("GET", "/_fake/state"):
            answer = _state(fake)
        case ("GET", "/_fake/requests"):
            answer = _requests(fake)
        case ("GET", "/_fake/faults"):
            answer = fake.fault_plan.to_json()
        case ("PUT", "/_fake/faults"):
            return _put_faults(fake, request)
        case ("POST", "/_fake/reset"):
            fake.reset()
            answer = {"message": "reset"}
        case ("POST", "/_fake/clock"):
            answer = _advance_clock(fake, request)
        case _:
            edit = _EDIT.match(request.path)
            if request.method != "POST" or not edit:
                raise ApiError(404, message=f"No control endpoint {request.method} {request.path}")
            answer = fake.edit_partner(int(edit.group("id")), json_object(request))
    return json_response(200, answer)


def _advance_clock(fake: "FakeProcountor", request: FakeRequest) -> dict:
    """Time passing in the company (e.g. the half hour between scheduled runs), for benchmarks and tests."""
    seconds = json_object(request).get("advanceSeconds")  # JSON numbers with a fraction arrive as Decimal
    if not isinstance(seconds, int | Decimal) or isinstance(seconds, bool) or seconds < 0:
        raise ApiError(400, message="advanceSeconds must be a number of seconds, 0 or more")
    return {"now": fake.advance_clock(float(seconds)).isoformat()}


def _state(fake: "FakeProcountor") -> dict:
    """Everything the fake company holds, plus request counts per route."""
    with fake.store.lock:
        return {
            "partners": fake.partners(),
            "products": fake.products(),
            "invoices": fake.invoices(),
            "requestCounts": dict(fake.route_counts),
            "faultsInjected": fake.faults_injected,
        }


def _requests(fake: "FakeProcountor") -> list[dict]:
    """The request log as JSON objects."""
    with fake.store.lock:
        entries = list(fake.request_log)
    keys = ("monotonic", "method", "path", "status", "clientId")
    return [dict(zip(keys, entry, strict=True)) for entry in entries]


def _put_faults(fake: "FakeProcountor", request: FakeRequest) -> FakeResponse:
    """Replace the fault plan from a JSON FaultPlan."""
    try:
        plan = FaultPlan.from_json(json_object(request))
    except (TypeError, ValueError) as exc:
        raise ApiError(400, message=f"Invalid fault plan: {exc}") from exc
    fake.set_faults(plan)
    return json_response(200, plan.to_json())

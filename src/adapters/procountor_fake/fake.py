"""FakeProcountor: one stateful fake company behind the Procountor API, usable in-process or served."""

# Request pipeline, in order: injected latency (outside the lock, so concurrent clients overlap);
# then under the one state lock: gateway 403 for a GET with a body, the per-client rate limit (429),
# routing (404), 429 bursts, random 500s, bearer-token check (401), the handler itself, and finally
# commit-then-fail and timeout faults, which act after the change has been stored.

import copy
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from typing import TYPE_CHECKING

import httpx

from . import auth, partners, routes
from .faults import DROP, FaultInjector, FaultPlan, RateLimiter, retry_after_header
from .messages import ApiError, FakeRequest, FakeResponse
from .state import Store, utc_now

if TYPE_CHECKING:
    from .server import RunningFake

DEFAULT_VATS = (Decimal("25.5"), Decimal("24"), Decimal("14"), Decimal("13.5"), Decimal("10"), Decimal("0"))
DEMO_SECRET = "demo-secret"  # noqa: S105 - the fake company's published demo credential
RequestLogEntry = tuple[float, str, str, int, str | None]


def company_identity(
    credentials: auth.Credentials, company_id: int | None, name: str | None, business_id: str | None
) -> dict:
    """The company behind a credential set, as `GET /company` answers: one company per credential set.

    Without an explicit id, the id follows from the client id and API key, so two fakes with different
    credentials are two different companies and a fake restarted with the same credentials is the same one.
    """
    number = (
        company_id
        if company_id is not None
        else 1000 + zlib.crc32(f"{credentials.client_id}:{credentials.api_key}".encode()) % 900_000
    )
    return {
        "id": number,
        "name": name or f"Fake Company {number} Oy",
        "businessId": business_id or _business_id_for(number),
    }


def _business_id_for(number: int) -> str:
    """A valid Finnish business ID (Y-tunnus) made from a number: the first with a valid check digit."""
    base = 2_000_000 + number % 7_000_000
    while True:
        digits = f"{base:07d}"
        remainder = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if remainder != 1:
            return f"{digits}-{0 if remainder == 0 else 11 - remainder}"
        base += 1


class FakeProcountor:
    """A faithful, stateful stand-in for the Procountor REST API of one company."""

    def __init__(
        self,
        *,
        client_id: str = "demo-client",
        client_secret: str = DEMO_SECRET,
        api_key: str = "demo-api-key",
        token_lifetime_s: float = 3600,
        rate_limit_per_s: float | None = None,
        vat_percentages: Iterable[Decimal] = DEFAULT_VATS,
        faults: FaultPlan | None = None,
        clock: Callable[[], datetime] | None = None,
        seed: int = 0,
        company_id: int | None = None,
        company_name: str | None = None,
        company_business_id: str | None = None,
    ):
        self.credentials = auth.Credentials(client_id, client_secret, api_key)
        self.company = company_identity(self.credentials, company_id, company_name, company_business_id)
        self.token_lifetime_s = token_lifetime_s
        self.vat_percentages = tuple(Decimal(v) for v in vat_percentages)
        self._clock = clock or utc_now
        self._clock_offset = timedelta(0)  # moved by advance_clock(): time passing between scheduled runs
        self.store = Store(self._now)
        self._initial_faults = faults or FaultPlan()
        self._faults = FaultInjector(self._initial_faults, seed)
        self._limiter = RateLimiter(rate_limit_per_s)
        self.request_log: list[RequestLogEntry] = []
        self.route_counts: Counter[str] = Counter()

    # --- ways in -------------------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport answering in-process; any base URL works."""
        from .transport import FakeTransport

        return FakeTransport(self)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> "RunningFake":
        """Serve over real HTTP from a background thread (port 0 picks a free port)."""
        from .server import start_server

        return start_server(self, host, port)

    # --- readable state and run-time control ----------------------------------------------------

    def partners(self) -> list[dict]:
        """Stored business partners as the API returns them (money as Decimal), ordered by id."""
        return self.store.snapshot("partners")

    def products(self) -> list[dict]:
        """Stored products, ordered by id."""
        return self.store.snapshot("products")

    def invoices(self) -> list[dict]:
        """Stored invoices, ordered by id."""
        return self.store.snapshot("invoices")

    @property
    def fault_plan(self) -> FaultPlan:
        """The plan in force."""
        return self._faults.plan

    @property
    def faults_injected(self) -> dict[str, int]:
        """How many faults of each kind were actually injected since start or reset."""
        return dict(self._faults.injected)

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan at run time."""
        with self.store.lock:
            self._faults.set_plan(plan)

    def edit_partner(self, partner_id: int, changes: dict) -> dict:
        """An accountant's edit in the Procountor UI: merges changes, bumps the version."""
        with self.store.lock:
            return copy.deepcopy(partners.accountant_edit(self.store, partner_id, changes))

    def _now(self) -> datetime:
        return self._clock() + self._clock_offset

    def advance_clock(self, seconds: float) -> datetime:
        """Moves the company's clock forward (versions, Date headers), as if that much time had passed."""
        with self.store.lock:
            self._clock_offset += timedelta(seconds=seconds)
            return self.store.now()

    def reset(self) -> None:
        """Forget all data, tokens and logged requests; restore the constructor's fault plan and clock."""
        with self.store.lock:
            self._clock_offset = timedelta(0)
            self.store.reset()
            self.request_log.clear()
            self.route_counts.clear()
            self._limiter.reset()
            self._faults.injected.clear()
            self._faults.set_plan(self._initial_faults)

    def issue_token(self, request: FakeRequest) -> FakeResponse:
        """The token endpoint, bound to this fake's credentials."""
        return auth.issue_token(self.store, self.credentials, self.token_lifetime_s, request)

    # --- the pipeline ----------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one API request (paths under /_fake are the control API)."""
        if request.path.startswith("/_fake/"):
            from .control import handle_control

            return handle_control(self, request)
        latency_ms = self._faults.plan.latency_ms
        if latency_ms > 0:
            time.sleep(latency_ms / 1000)
        with self.store.lock:
            response = self._handle_locked(request)
            # Every real HTTP server sends Date; this one's comes from the company's clock (skew included).
            response.headers.setdefault("Date", format_datetime(self.store.now().replace(tzinfo=UTC), usegmt=True))
            return response

    def _handle_locked(self, request: FakeRequest) -> FakeResponse:
        """Everything after latency, under the state lock; logs the outcome."""
        now = request.received_at
        resolved = routes.resolve(request)
        client = self._client_of(request, resolved)
        try:
            response = self._answer(request, resolved, client, now)
        except ApiError as exc:
            response = exc.response()
        self.request_log.append((now, request.method, request.path, response.status, client))
        self.route_counts[resolved[0].key if resolved else f"{request.method} (unknown)"] += 1
        return response

    def _client_of(self, request: FakeRequest, resolved) -> str | None:
        """Who is asking: the form's client_id on token requests, else the bearer token's owner."""
        if resolved and resolved[0].key == routes.OAUTH_ROUTE_KEY:
            return auth.token_client_id(request)
        return auth.bearer_client_id(self.store, request)

    def _answer(self, request: FakeRequest, resolved, client: str | None, now: float) -> FakeResponse:
        """Gateway, limits and faults before the handler; commit-then-fail and timeouts after it."""
        if request.method == "GET" and request.body:
            raise ApiError(403, message="Forbidden: GET requests must not carry a body")
        wait = self._limiter.admit(client, now)
        if wait is not None:
            raise ApiError(429, message="Too many requests", headers={"Retry-After": retry_after_header(wait)})
        if resolved is None:
            raise ApiError(404, message=f"No resource at {request.method} {request.path}")
        route, params = resolved
        self._before_faults(route.key)
        if route.key != routes.OAUTH_ROUTE_KEY:
            auth.require_token(self.store, request)
        response = route.handler(self, request, **params)
        return self._after_faults(route.key, response)

    def _before_faults(self, key: str) -> None:
        """429 bursts and random 500s, decided before anything is done."""
        if self._faults.burst(key):
            retry = retry_after_header(self._faults.plan.retry_after_s)
            raise ApiError(429, message="Too many requests", headers={"Retry-After": retry})
        if self._faults.error(key):
            raise ApiError(500, message="Internal Server Error (injected)")

    def _after_faults(self, key: str, response: FakeResponse) -> FakeResponse:
        """The work is done and stored; the client may still never learn of it."""
        if response.status < 400 and self._faults.commit_then_fail(key):
            if self._faults.plan.commit_then_fail_mode == DROP:
                return FakeResponse(500, fault="drop")
            return ApiError(500, message="Internal Server Error (injected after commit)").response()
        if self._faults.timeout(key):
            response.fault = "timeout"
        return response

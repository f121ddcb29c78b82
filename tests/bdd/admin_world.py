"""The world of Settings → Integrations: Spotilla's database, the fake Procountor on loopback, and `run`'s web server.

Everything the admin and the operators do goes through the JSON API over real HTTP, with tokens signed as Spotilla
signs its users in. Spotilla's own rows are written with plain SQL, as Spotilla writes them. The service is wired as
`run` wires it (`start_web_server` over a `TenantScheduler`); its runs happen only when someone asks for one (Run now,
Retry): the interval is a day, and the tenant list is read when a run is asked for.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import DateTime, Engine, Numeric, bindparam, text

from dbutil import create_spotilla_tables
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.procountor_fake.messages import FakeRequest, FakeResponse
from spotilla_procountor.adapters.scheduler import TenantScheduler
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.web.auth import Role
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.app.web import start_web_server, tokens_for

HELSINKI = ZoneInfo("Europe/Helsinki")
API_KEY = "putki-api-key-4d1c0e"
"""The API key the organization created in its Procountor company."""
CLIENT_ID = "spotilla-integration"
CLIENT_SECRET = "integration-secret-77e0b2"
IBAN = "FI49 5000 9420 0287 30"
WAIT_S = 20.0
"""The longest a step waits for runs to finish."""
POLL_S = 0.05
_TYPES = {"unit_price": Numeric(12, 2), "vat_percent": Numeric(5, 2), "quantity": Numeric(12, 3)}
_TYPES |= dict.fromkeys(("created_at", "updated_at", "completed_at"), DateTime())


def today() -> date:
    return datetime.now(HELSINKI).date()


class HeldProcountor(FakeProcountor):
    """The fake Procountor, which the test can make hold its answers: a run then stays under way until released."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._answering = threading.Event()
        self._answering.set()
        self._lock = threading.Lock()
        self.held = 0
        """Requests waiting for an answer now."""

    def hold(self) -> None:
        self._answering.clear()

    def release(self) -> None:
        self._answering.set()

    def handle(self, request: FakeRequest) -> FakeResponse:
        if not self._answering.is_set():
            with self._lock:
                self.held += 1
            try:
                self._answering.wait(timeout=WAIT_S)
            finally:
                with self._lock:
                    self.held -= 1
        return super().handle(request)


class SpotillaRows:
    """Spotilla's own tables, written with plain SQL as Spotilla (or any outside tool) writes them."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _insert(self, table: str, **row: Any) -> int:
        columns = ", ".join(row)
        values = ", ".join(f":{c}" for c in row)
        sql = text(f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING id")
        sql = sql.bindparams(*[bindparam(c, type_=_TYPES[c]) for c in row if c in _TYPES])
        with self._engine.begin() as conn:
            return int(conn.execute(sql, row).scalar_one())

    @staticmethod
    def _now() -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)  # Spotilla's timestamps are naive UTC

    def organization(self, name: str) -> int:
        return self._insert("organizations", name=name)

    def product(self, org: int, code: str, name: str, unit: str, price: Decimal, vat: Decimal) -> int:
        now = self._now()
        return self._insert(
            "products", organization_id=org, code=code, name=name, unit=unit, unit_price=price, vat_percent=vat,
            created_at=now, updated_at=now,
        )  # fmt: skip

    def customer(self, org: int, name: str, business_id: str | None) -> int:
        now = self._now()
        return self._insert(
            "customers", organization_id=org, name=name, business_id=business_id, created_at=now, updated_at=now
        )

    def completed_task(self, org: int, title: str, customer_id: int, products: Sequence[tuple[int, Decimal]]) -> int:
        now = self._now()
        task_id = self._insert(
            "tasks", organization_id=org, customer_id=customer_id, title=title, status="COMPLETED",
            completed_at=now - timedelta(minutes=1), created_at=now - timedelta(hours=2), updated_at=now,
        )  # fmt: skip
        for product_id, quantity in products:
            self._insert("task_products", task_id=task_id, product_id=product_id, quantity=quantity)
        return task_id

    def set_business_id(self, customer_id: int, business_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                text("UPDATE customers SET business_id = :bid, updated_at = :now WHERE id = :id").bindparams(
                    bindparam("now", type_=DateTime())
                ),
                {"bid": business_id, "now": self._now(), "id": customer_id},
            )


class User:
    """A signed-in user of the pages' JSON API. Every answer is checked for secrets: none may ever carry one."""

    def __init__(self, base_url: str, token: str, hidden: Sequence[str]) -> None:
        self._client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=WAIT_S)
        self._hidden = hidden
        self._token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        answer = self._client.request(method, f"/api/v1{path}", json=body)
        leaked = [s for s in (*self._hidden, self._token) if s in answer.text]
        assert not leaked, f"{method} {path} answered with a secret in it: {answer.text}"
        assert answer.status_code < 500, f"{method} {path} answered {answer.status_code}: {answer.text}"
        return answer

    def close(self) -> None:
        self._client.close()


class AdminWorld:
    """Spotilla's organizations, their Procountor companies, and the service as `run` serves it."""

    def __init__(self, engine: Engine, stack: ExitStack) -> None:
        create_spotilla_tables(engine)
        upgrade_database(engine)
        self.engine = engine
        self.spotilla = SpotillaRows(engine)
        self._stack = stack
        self._jwt_secret = secrets.token_urlsafe(48)
        self.procountor = HeldProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY)
        """The company of the organization whose admin is signed in (environment "test" reaches it)."""
        self.companies: dict[int, HeldProcountor] = {}
        self.organizations: dict[str, int] = {}
        self.ids: dict[tuple[str, str], int] = {}
        """(kind, name or code) → Spotilla id: ("task", title), ("customer", name), ("product", code or name)."""
        self.never_shown = [API_KEY, CLIENT_SECRET, self._jwt_secret]
        served = stack.enter_context(self.procountor.serve())
        self.container = self._container(engine, served.url)
        self._serve()

    def _container(self, engine: Engine, procountor_url: str) -> Container:
        settings = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            secret_key=new_key(),
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            web_jwt_secret=self._jwt_secret,
            procountor_test_url=procountor_url,
            http_port=0,
            interval_minutes=24 * 60,
            _env_file=None,
        )
        self.never_shown.append(settings.secret_key.get_secret_value())  # type: ignore[union-attr]
        container = build_container(settings)
        self._stack.callback(container.engine().dispose)
        return container

    def _serve(self) -> None:
        """As `run` does: the scheduler over the sync service and the tenant list, and the web server over both."""
        service, tenants, settings = self.container.sync_service(), self.container.tenants(), self.container.settings()
        self.scheduler = TenantScheduler(
            sync_tenant=service.sync,
            enabled_tenants=lambda: [c.organization_id for c in tenants.list() if c.enabled],
            interval_minutes=settings.interval_minutes,
            concurrency=settings.tenant_concurrency,
            refresh_seconds=24 * 3600,  # read at start and whenever a run is asked for: runs happen only when asked
        )
        web = start_web_server(self.container, self.scheduler)
        self._stack.callback(web.stop)
        self.scheduler.start()
        self._stack.callback(self.scheduler.shutdown)  # runs end before the server stops
        self._stack.callback(self.release_procountor)  # and a run held by a company first ends
        self.base_url = f"http://127.0.0.1:{web.server.port}"
        self._tokens = tokens_for(self.container)

    @classmethod
    @contextmanager
    def started(cls, engine: Engine) -> Iterator[AdminWorld]:
        with ExitStack() as stack:
            yield cls(engine, stack)

    # -- who is signed in ---------------------------------------------------------------------------------------

    def sign_in(self, organization_id: int, role: Role = Role.ADMIN) -> User:
        """A user as Spotilla signs one in: a short-lived token for the organization and role."""
        assert self._tokens is not None
        token = self._tokens.issue(subject=f"{role}@{organization_id}", organization_id=organization_id, role=role)
        user = User(self.base_url, token, self.never_shown)
        self._stack.callback(user.close)
        return user

    # -- Spotilla -----------------------------------------------------------------------------------------------

    def add_organization(self, name: str) -> int:
        self.organizations[name] = org = self.spotilla.organization(name)
        return org

    @property
    def organization_id(self) -> int:
        """The organization whose admin the scenario follows: the first one in Spotilla."""
        return next(iter(self.organizations.values()))

    def id_of(self, kind: str, name: str) -> int:
        try:
            return self.ids[(kind, name)]
        except KeyError:
            known = sorted(f"{k} {n}" for k, n in self.ids)
            raise AssertionError(f"no {kind} {name!r} in Spotilla; known: {', '.join(known)}") from None

    def other_company(self, organization_id: int) -> HeldProcountor:
        """Switches an organization on in a Procountor company of its own, as Spotilla's operators do from the
        command line (`tenants enable`): the admin's "test" environment is another company."""
        company = HeldProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=f"key-of-{organization_id}")
        served = self._stack.enter_context(company.serve())
        self.container.tenants().enable(
            organization_id,
            f"key-of-{organization_id}",
            environment=served.url,
            bank_account=IBAN,
            tasks_completed_from=today(),
        )
        self.companies[organization_id] = company
        self.never_shown.append(f"key-of-{organization_id}")
        return company

    # -- runs ---------------------------------------------------------------------------------------------------

    def wait_for_runs(self, user: User, organization_id: int) -> dict[str, Any]:
        """Polls the state at a glance until no run of the organization waits or is under way; then returns it."""
        deadline = time.monotonic() + WAIT_S
        while True:
            status = user.call("GET", f"/organizations/{organization_id}/status").json()
            under_way = any(r["status"] == "RUNNING" for r in status["last_runs"])
            attempts = self.scheduler.health().tenants.get(organization_id)
            running = attempts is not None and attempts.running_since is not None  # also between two runs
            if not (status["run_queued"] or under_way or running):
                return status
            if time.monotonic() > deadline:
                raise AssertionError(f"the runs of organization {organization_id} went on for {WAIT_S} s: {status}")
            time.sleep(POLL_S)

    def release_procountor(self) -> None:
        for company in (self.procountor, *self.companies.values()):
            company.release()

    def wait_until_held(self, company: HeldProcountor) -> None:
        """Until a request of a run waits for Procountor's answer: the run is under way, and stays so."""
        deadline = time.monotonic() + WAIT_S
        while company.held == 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"no run asked Procountor anything within {WAIT_S} s")
            time.sleep(POLL_S)

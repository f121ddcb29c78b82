"""The world of the JSON API tests (imported by them; the pages' tests own tests/web/conftest.py).

The app is wired as `run` wires it (`start_web_server` over the container and a scheduler) and served over real
HTTP on loopback, over a real database (SQLite, or a PostgreSQL schema of its own). Two fake Procountor companies
are served on loopback beside it: organization 1's, reached as environment `test` (PROCOUNTOR_TEST_URL) and not yet
switched on; and organization 2's, switched on from the start with an API client of its own and one run behind it.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import DateTime, MetaData, bindparam, inspect, text

from dbutil import postgres_engine
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.scheduler import TenantScheduler
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.web.auth import SESSION_COOKIE, Role, Session, Tokens
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import ApiClient, new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.app.web import WebServer, start_web_server

# Canaries: none of them may appear in any answer of the API.
JWT_SECRET = "canary-jwt-secret-7d1c5a3e9b2f4068a1c3e5d7f9b1a3c5"
CLIENT_ID = "api-client"
CLIENT_SECRET = "canary-client-secret-2e8a41"
API_KEY = "canary-api-key-5f90c3"
OWN_CLIENT_ID = "own-client-of-org-2"
OWN_CLIENT_SECRET = "canary-own-client-secret-b7d2"
API_KEY_2 = "canary-api-key-of-org-2-11e4"
IBAN = "FI4950009420028730"
SWITCH_ON = {
    "api_key": API_KEY,
    "environment": "test",
    "policy": "ALL_COMPLETED",
    "bank_account": "FI49 5000 9420 0287 30",
    "tasks_completed_from": "2000-01-01",
}
"""Organization 1's admin switching the integration on (the key is the one its fake company accepts)."""
PATH_SAMPLES = {"organization_id": 2, "kind": "task", "spotilla_id": 1, "run_id": 1}
"""A value for every path parameter of the API; a new parameter without one fails the tests that go over routes."""
ORGANIZATION = "/api/v1/organizations/{organization_id}"


@dataclass
class ApiWorld:
    """A served app and what stands behind it."""

    url: str
    container: Container
    scheduler: TenantScheduler
    tokens: Tokens
    fake: FakeProcountor
    """Organization 1's Procountor company."""
    other_fake: FakeProcountor
    """Organization 2's Procountor company."""
    other_url: str
    _scheduler_started: bool = field(default=False, repr=False)

    # -- who asks --------------------------------------------------------------------------------------------

    def token(self, organization_id: int = 1, role: Role = Role.ADMIN, subject: str = "anna@yritys.fi") -> str:
        return self.tokens.issue(subject=subject, organization_id=organization_id, role=role)

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)

    def admin(self, organization_id: int = 1) -> httpx.Client:
        return self.client(self.token(organization_id, Role.ADMIN))

    def operator(self) -> httpx.Client:
        return self.client(self.token(1, Role.OPERATOR, "operator@spotilla.fi"))

    def new_session(self, organization_id: int = 1, role: Role = Role.ADMIN) -> Session:
        """A page session as `/launch` starts it from a token: the cookie's value and the session's CSRF value."""
        return self.tokens.start_session(self.tokens.verify(self.token(organization_id, role)))

    def session(self, organization_id: int = 1, role: Role = Role.ADMIN) -> tuple[httpx.Client, Session]:
        """A client carrying a new page session's cookie, and that session."""
        session = self.new_session(organization_id, role)
        return self.client(cookies={SESSION_COOKIE: session.cookie}), session

    # -- what stands behind ------------------------------------------------------------------------------------

    def switch_on(self, organization_id: int = 1, **changes: object) -> dict:
        """Organization 1's admin switches on through the API (the key checked with its fake company)."""
        with self.admin(organization_id) as client:
            answer = client.put(f"/api/v1/organizations/{organization_id}/integration", json=SWITCH_ON | changes)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def switch_both_on(self) -> None:
        """Organization 1 through the API, organization 2 as an operator does (whatever was switched off)."""
        self.switch_on(1)
        enable_organization_2(self.container, self.other_url)

    def start_scheduler(self) -> None:
        """Starts the runs as `run` does: every tenant switched on runs at once, then every interval. Returns once
        organization 2's run has ended, so that what a test sees change is its own doing."""
        organization_2_ran = len(self.container.state().runs(2, limit=100))
        self.scheduler.start()
        self._scheduler_started = True
        if self.container.tenants().config(2).enabled:
            self.wait_for_runs(2, organization_2_ran + 1)

    def wait_for_runs(self, organization_id: int, count: int, timeout_s: float = 60) -> list[dict]:
        """The organization's runs once `count` of them have finished (as the API lists them, newest first)."""
        deadline = time.monotonic() + timeout_s
        with self.operator() as client:
            while True:
                runs = client.get(f"/api/v1/organizations/{organization_id}/runs").json()
                finished = [r for r in runs if r["finished_at"] is not None]
                if len(finished) >= count and all(r["finished_at"] for r in runs):
                    return runs
                assert time.monotonic() < deadline, f"{count} run(s) did not finish in {timeout_s} s: {runs}"
                time.sleep(0.1)

    def tables(self) -> dict[str, list[tuple]]:
        """Every row of the integration's own tables (procountor_*), to see that nothing changed."""
        engine = self.container.engine()
        names = sorted(n for n in inspect(engine).get_table_names() if n.startswith("procountor_"))
        with engine.connect() as connection:
            return {n: sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{n}"'))), key=repr) for n in names}

    def close(self) -> None:
        if self._scheduler_started:
            self.scheduler.shutdown()


def settings_for(database_url: str, procountor_url: str, *, jwt_secret: str | None = JWT_SECRET) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=new_key(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        web_jwt_secret=jwt_secret,
        procountor_test_url=procountor_url,
        http_host="127.0.0.1",
        http_port=0,
        claim_grace_s=0,
        _env_file=None,
        secret_key_file=None,
        client_id_file=None,
        client_secret_file=None,
        web_jwt_secret_file=None,
    )


def _scheduler(container: Container) -> TenantScheduler:
    """The scheduler as `run` makes it (not started: `ApiWorld.start_scheduler`)."""
    service, tenants, settings = container.sync_service(), container.tenants(), container.settings()
    return TenantScheduler(
        sync_tenant=service.sync,
        enabled_tenants=lambda: [c.organization_id for c in tenants.list() if c.enabled],
        interval_minutes=settings.interval_minutes,
        concurrency=settings.tenant_concurrency,
    )


GOOD_CUSTOMER, HELD_CUSTOMER, PRODUCT = 101, 102, 201
INVOICED_TASK, HELD_TASK, UNFINISHED_TASK = 301, 302, 303
"""Organization 1: a task of a customer with a business ID, a task of one without, and a task not completed."""


def seed_organization_1(container: Container) -> None:
    """Organization 1's rows in Spotilla's tables, written as Spotilla writes them."""
    engine, now = container.engine(), datetime.now(UTC).replace(tzinfo=None)

    def customer(id_: int, name: str, business_id: str | None) -> dict:
        return {
            "id": id_,
            "organization_id": 1,
            "name": name,
            "business_id": business_id,
            "country": "FI",
            "street_address": "Satamakatu 3",
            "postal_code": "00160",
            "city": "Helsinki",
            "payment_term_days": 14,
            "created_at": now - timedelta(days=30),
            "updated_at": now - timedelta(days=30),
        }

    def task(id_: int, customer_id: int, status: str) -> dict:
        completed = now - timedelta(days=2) if status == "COMPLETED" else None
        return {
            "id": id_,
            "organization_id": 1,
            "customer_id": customer_id,
            "title": f"Huolto {id_}",
            "status": status,
            "completed_at": completed,
            "created_at": now - timedelta(days=3),
            "updated_at": completed or now,
        }

    rows = {
        "organizations": [{"id": 1, "name": "Demo Huolto Oy"}],
        "customers": [
            customer(GOOD_CUSTOMER, "Hyvä Asiakas Oy", "1234567-1"),
            customer(HELD_CUSTOMER, "Puute Oy", None),
        ],
        "products": [
            {
                "id": PRODUCT,
                "organization_id": 1,
                "code": "P-1",
                "name": "Huoltotyö",
                "unit": "h",
                "unit_price": Decimal("60.00"),
                "vat_percent": Decimal("25.5"),
                "created_at": now - timedelta(days=60),
                "updated_at": now - timedelta(days=60),
            }
        ],
        "tasks": [
            task(INVOICED_TASK, GOOD_CUSTOMER, "COMPLETED"),
            task(HELD_TASK, HELD_CUSTOMER, "COMPLETED"),
            task(UNFINISHED_TASK, GOOD_CUSTOMER, "IN_PROGRESS"),
        ],
        "task_products": [{"task_id": t, "product_id": PRODUCT, "quantity": Decimal("2")} for t in (301, 302, 303)],
    }
    tables = MetaData()
    tables.reflect(engine, only=list(rows))
    with engine.begin() as connection:
        for name, values in rows.items():
            connection.execute(tables.tables[name].insert(), values)


def give_business_id(container: Container, customer_id: int, business_id: str) -> None:
    """Someone fixes the customer in Spotilla."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with container.engine().begin() as connection:
        connection.execute(
            text("UPDATE customers SET business_id = :bid, updated_at = :now WHERE id = :id").bindparams(
                bindparam("now", type_=DateTime())
            ),
            {"bid": business_id, "now": now, "id": customer_id},
        )


def enable_organization_2(container: Container, procountor_url: str) -> None:
    """An operator switches organization 2 on, with the API client of its own (as `tenants enable` does)."""
    container.tenants().enable(
        2,
        API_KEY_2,
        client=ApiClient(OWN_CLIENT_ID, OWN_CLIENT_SECRET),
        environment=procountor_url,
        bank_account=IBAN,
        tasks_completed_from=date(2000, 1, 1),
    )


def _organization_2(container: Container, procountor_url: str) -> None:
    """Organization 2: its own API client, switched on by an operator, and one run of it done."""
    generate_demo_data(container.engine(), organization_id=2, organization_name="Toinen Oy", size=SMALL, seed=2)
    enable_organization_2(container, procountor_url)
    container.sync_service().sync(2)


SMALL = DemoSize(customers=4, products=3, tasks=8, bad_customer_share=0.25)


@contextmanager
def served_api(database_url: str, *, jwt_secret: str | None = JWT_SECRET) -> Iterator[ApiWorld]:
    """The API over a fresh database at `database_url`, wired as `run` wires it."""
    fake = FakeProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY)
    other = FakeProcountor(client_id=OWN_CLIENT_ID, client_secret=OWN_CLIENT_SECRET, api_key=API_KEY_2)
    with ExitStack() as stack:
        procountor, other_procountor = stack.enter_context(fake.serve()), stack.enter_context(other.serve())
        container = build_container(settings_for(database_url, procountor.url, jwt_secret=jwt_secret))
        stack.callback(container.engine().dispose)
        upgrade_database(container.engine())
        seed_organization_1(container)
        _organization_2(container, other_procountor.url)
        scheduler = _scheduler(container)
        web: WebServer = start_web_server(container, scheduler)
        stack.callback(web.stop)
        tokens = Tokens(jwt_secret or JWT_SECRET)  # without a secret set, tokens are still made (and refused)
        url = f"http://127.0.0.1:{web.server.port}"
        world = ApiWorld(url, container, scheduler, tokens, fake, other, other_procountor.url)
        stack.callback(world.close)  # the scheduler stops before the server and the database go
        yield world


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'spotilla.sqlite3'}"


# -- tokens as others might make them ------------------------------------------------------------------------------


def claims(**changes: object) -> dict:
    """Claims of a valid admin token of organization 1; a change of None leaves the claim out."""
    now = datetime.now(UTC)
    base = {"sub": "anna@yritys.fi", "org": 1, "role": "admin", "iat": now, "exp": now + timedelta(minutes=15)}
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def unsigned(payload: dict) -> str:
    """A token with `alg: none` and no signature, the classic forgery."""

    def part(data: dict) -> str:
        text = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(text).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def signed(payload: dict, key: object = JWT_SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():  # HS512 with the shared secret: a short key for it, and refused anyway
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, key, algorithm=algorithm)  # type: ignore[arg-type]


def secret_forms(*secrets: str) -> list[str]:
    """A secret as it may leak: as it is, URL-quoted, base64 (as in a Basic header)."""
    forms = []
    for secret in secrets:
        forms += [secret, urllib.parse.quote(secret), base64.b64encode(secret.encode()).decode()]
    return forms


# -- the API's operations ------------------------------------------------------------------------------------------


def api_operations(world: ApiWorld) -> list[tuple[str, str]]:
    """(method, path template) of every `/api/v1` operation, read from the served OpenAPI document."""
    document = httpx.get(f"{world.url}/openapi.json", timeout=10).json()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    ]


def organization_operations(world: ApiWorld) -> list[tuple[str, str]]:
    """Every operation under `/api/v1/organizations/{organization_id}`, switching off (DELETE) last."""
    operations = [(m, p) for m, p in api_operations(world) if p.startswith(ORGANIZATION)]
    assert len(operations) >= 10, f"the OpenAPI document lists too few organization endpoints: {operations}"
    return sorted(operations, key=lambda op: op[0] == "DELETE")


def concrete(path: str, **values: object) -> str:
    """The path with every parameter filled from `values`, else from PATH_SAMPLES; an unknown one fails."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    unknown = [name for name in names if name not in values and name not in PATH_SAMPLES]
    assert not unknown, f"no sample value for the path parameter(s) {unknown} of {path}: add them to PATH_SAMPLES"
    return path.format(**{**PATH_SAMPLES, **values})


def send(client: httpx.Client, method: str, path: str, **headers: str) -> httpx.Response:
    """The request an honest client would send: a PUT carries a valid (empty) change."""
    return client.request(method, path, json={} if method == "PUT" else None, headers=headers)


# -- fixtures (imported by the test modules) ------------------------------------------------------------------------

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@contextmanager
def database_url(backend: str, folder: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in `folder`, or a PostgreSQL schema of its own (dropped afterwards)."""
    if backend == "sqlite":
        yield sqlite_url(folder)
        return
    with postgres_engine() as engine:
        yield engine.url.render_as_string(hide_password=False)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiWorld]:
    """The API over SQLite."""
    with served_api(sqlite_url(tmp_path)) as world:
        yield world


@pytest.fixture(scope="module")
def unchanging_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    """The API over SQLite, shared by a module's tests that change nothing (their requests are all refused)."""
    with served_api(sqlite_url(tmp_path_factory.mktemp("api"))) as world:
        yield world


@pytest.fixture(params=BACKENDS)
def api_on_each_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApiWorld]:
    """The API over SQLite, then over PostgreSQL."""
    with database_url(request.param, tmp_path) as url, served_api(url) as world:
        yield world


def until(condition: Callable[[], object], timeout_s: float = 30, what: str = "the condition") -> object:
    """Polls `condition` until it is truthy; fails naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(0.05)
    return value

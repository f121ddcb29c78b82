"""A world for reliability scenarios: a database, the fake Procountor on loopback, and real `sync` processes."""

from __future__ import annotations

import base64
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, inspect, text

from dbutil import postgres_engine, sqlite_engine
from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.container import build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import business_id_check_digit
from spotilla_procountor.app.service import Credentials
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.keys import invoice_key
from spotilla_procountor.domain.state import IN_DOUBT, EntityKind, RecordState, RunStatus

SCALE = float(os.environ.get("SPOTILLA_PROCOUNTOR_RELIABILITY_SCALE", "1"))
CLI = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()"]
CRASHING_CLI = [sys.executable, str(Path(__file__).with_name("crashing_cli.py"))]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_PATH = "/oauth/token"


def scaled(ci_size: int, *, minimum: int = 1) -> int:
    """A size for this run: the CI slice at scale 1, grown linearly with the scale."""
    return max(minimum, round(ci_size * SCALE))


def business_id(n: int) -> str:
    """The n-th valid business ID (Y-tunnus) of a deterministic series."""
    number = 1_000_000 + n * 7
    while business_id_check_digit(f"{number:07d}") is None:
        number += 1
    return f"{number:07d}-{business_id_check_digit(f'{number:07d}')}"


def canary() -> Credentials:
    """Credentials nobody else uses, so that any trace of them is found by plain search."""
    tag = uuid.uuid4().hex
    return Credentials(f"rel-client-{tag[:8]}", f"CANARYSECRET{tag}", f"CANARYAPIKEY{tag[::-1]}")


def encodings(secret: str) -> set[str]:
    """The secret raw, URL-encoded and base64 (at every byte alignment, so a base64 blob containing it matches)."""
    raw = secret.encode()
    forms = {secret, urllib.parse.quote(secret), urllib.parse.quote_plus(secret)}
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode()
        core = encoded[4 if pad else 0 :][: len(raw) * 4 // 3 - 4]
        forms.add(core)
        forms.add(core.replace("+", "-").replace("/", "_"))
    return {f for f in forms if len(f) >= 12}


@dataclass
class Figures:
    """What a scenario did, for RELIABILITY.md."""

    items: int = 0
    faults: int = 0
    kills: int = 0
    duplicates: int = 0
    missing: int = 0
    held_back: int = 0
    runs: int = 0
    notes: list[str] = field(default_factory=list)


class World:
    """One tenant on one database, a served fake Procountor, and the `sync` processes run against them."""

    def __init__(self, engine: Engine, fake: FakeProcountor, url: str, env: dict[str, str], logs: Path) -> None:
        self.engine, self.fake, self.url, self.env, self.logs = engine, fake, url, env, logs
        # Advisory run locks are database-wide, and other suites share the database: an organization of our own.
        self.org = random.randint(10_000, 2_000_000_000)
        self.state = SqlStateStore(engine)
        self.spotilla = SqlSpotillaRepository(engine)
        self.outputs: list[str] = []
        self.figures = Figures()
        self.credentials: Credentials | None = None
        self.eligible: set[int] = set()

    # ---- processes -------------------------------------------------------------------------------

    def start(self, *args: str, crash_at: str | None = None, **env: str) -> subprocess.Popen:
        """Starts `spotilla-procountor ARGS` (default: one sync of the tenant); output captured to a file."""
        log = self.logs / f"proc-{len(self.outputs)}-{uuid.uuid4().hex[:6]}.log"
        self.outputs.append(str(log))
        environment = {**self.env, **env}
        if crash_at:
            environment["SPOTILLA_RELIABILITY_CRASH_AT"] = crash_at
        with log.open("w") as out:
            return subprocess.Popen(
                [*(CRASHING_CLI if crash_at else CLI), *(args or ("sync", "--organization", str(self.org)))],
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def run(self, *args: str, crash_at: str | None = None, timeout: float = 120, **env: str) -> int:
        """Runs one process to its end; returns its exit code (-9 when it was killed)."""
        process = self.start(*args, crash_at=crash_at, **env)
        code = process.wait(timeout=timeout)
        self.figures.runs += 1
        if code == -signal.SIGKILL:
            self.figures.kills += 1
        return code

    def kill_after(self, delay_s: float, **env: str) -> int:
        """Starts a sync and SIGKILLs it after `delay_s` (unless it ended before); returns the exit code."""
        process = self.start(**env)
        try:
            return process.wait(timeout=delay_s)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            self.figures.kills += 1
            return process.wait()
        finally:
            self.figures.runs += 1

    def output(self) -> str:
        return "\n".join(Path(p).read_text(errors="replace") for p in self.outputs)

    def last_output(self) -> str:
        return Path(self.outputs[-1]).read_text(errors="replace")

    def settled(self) -> bool:
        """The last run succeeded and nothing is in doubt on Spotilla's side."""
        runs = self.state.runs(self.org, limit=1)
        if not runs or runs[0].status != RunStatus.SUCCEEDED:
            return False
        return not self.in_doubt()

    def in_doubt(self) -> list[str]:
        return [
            f"{kind} {r.spotilla_id} {r.state}"
            for kind in EntityKind
            for r in self.state.records(self.org, kind, states=IN_DOUBT).values()
        ]

    def sync_until_settled(self, max_runs: int = 8, **env: str) -> int:
        """Restarts the sync until a run succeeds with nothing in doubt; returns how many runs it took."""
        for attempt in range(1, max_runs + 1):
            self.run(**env)
            if self.settled():
                return attempt
        raise AssertionError(f"not settled after {max_runs} runs: {self.in_doubt()}; {self.state.runs(self.org)}")

    # ---- the fake through its control API -------------------------------------------------------

    def fake_state(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/_fake/state", timeout=30).json()

    def fake_requests(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/_fake/requests", timeout=30).json()

    def writes(self, requests: list[dict[str, Any]] | None = None) -> list[str]:
        """Create/update calls the fake has seen (token requests are not writes)."""
        return [
            f"{r['method']} {r['path']}"
            for r in (requests if requests is not None else self.fake_requests())
            if r["method"] in WRITES and not r["path"].endswith(TOKEN_PATH)
        ]

    def set_faults(self, plan: FaultPlan) -> None:
        httpx.put(f"{self.url}/_fake/faults", json=plan.to_json(), timeout=30).raise_for_status()

    # ---- data ------------------------------------------------------------------------------------

    def sql(self, statement: str, rows: list[dict] | dict | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(statement), rows or {})

    def seed(self, *, customers: int, products: int, tasks: int, first_task: int = 1) -> list[int]:
        """Good, eligible work with plain SQL: customers with valid business IDs, products, completed tasks."""
        now = "2026-11-20 12:00:00"
        with self.engine.begin() as conn:
            known_customers = conn.execute(text("SELECT COUNT(*) FROM customers")).scalar_one()
            known_products = conn.execute(text("SELECT COUNT(*) FROM products")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO customers (id, organization_id, name, business_id, street_address, postal_code, city,"
                    " country, created_at, updated_at) VALUES (:id, :o, :name, :bid, 'Katu 1', '00100', 'Helsinki',"
                    " 'FI', :now, :now)"
                ),
                [
                    {"id": i, "o": self.org, "name": f"Asiakas {i} Oy", "bid": business_id(i), "now": now}
                    for i in range(known_customers + 1, known_customers + customers + 1)
                ],
            )
            conn.execute(
                text(
                    "INSERT INTO products (id, organization_id, code, name, unit, unit_price, vat_percent,"
                    " created_at, updated_at) VALUES (:id, :o, :code, :name, :unit, :price, 25.5, :now, :now)"
                ),
                [
                    {
                        "id": i,
                        "o": self.org,
                        "code": f"REL-{i}",
                        "name": f"Tuote {i}",
                        "unit": "h" if i % 2 else "pcs",
                        "price": f"{10 + i}.90",
                        "now": now,
                    }
                    for i in range(known_products + 1, known_products + products + 1)
                ],
            )
            customer_ids = range(1, known_customers + customers + 1)
            product_ids = range(1, known_products + products + 1)
            task_ids = list(range(first_task, first_task + tasks))
            conn.execute(
                text(
                    "INSERT INTO tasks (id, organization_id, customer_id, title, status, order_number, completed_at,"
                    " created_at, updated_at) VALUES (:id, :o, :c, 'Huolto', 'COMPLETED', :order, :now, :now, :now)"
                ),
                [
                    {"id": t, "o": self.org, "c": customer_ids[t % len(customer_ids)], "order": f"PO-{t}", "now": now}
                    for t in task_ids
                ],
            )
            conn.execute(
                text("INSERT INTO task_products (task_id, product_id, quantity) VALUES (:t, :p, :q)"),
                [
                    {"t": t, "p": product_ids[(t + k) % len(product_ids)], "q": f"{1 + k}.500"}
                    for t in task_ids
                    for k in range(1 + t % 2)
                ],
            )
        self.eligible.update(task_ids)
        self.figures.items += len(task_ids)
        return task_ids

    # ---- end state, both sides --------------------------------------------------------------------

    def check_end_state(self) -> dict[str, Any]:
        """Procountor (through the fake's API) and Spotilla agree; nothing doubled, missed or left half-done."""
        fake = self.fake_state()
        keys = Counter(invoice["originalInvoiceNumber"] for invoice in fake["invoices"])
        wanted = {invoice_key(self.org, t) for t in self.eligible}
        self.figures.duplicates = sum(n - 1 for n in keys.values())
        self.figures.missing = len(wanted - set(keys))
        business_ids = [(p.get("invoicingInfo") or {}).get("identifier") for p in fake["partners"]]
        partner_ids = Counter(b for b in business_ids if b)
        assert partner_ids or not fake["invoices"], "invoices without partners: the partner check would see nothing"
        product_codes = Counter(p.get("code") for p in fake["products"] if p.get("code"))
        assert self.figures.duplicates == 0, f"invoiced twice: {[k for k, n in keys.items() if n > 1]}"
        assert self.figures.missing == 0, f"never invoiced: {sorted(wanted - set(keys))[:20]}"
        assert [b for b, n in partner_ids.items() if n > 1] == [], "a partner exists twice in Procountor"
        assert [c for c, n in product_codes.items() if n > 1] == [], "a product exists twice in Procountor"

        transfers = self.state.records(self.org, EntityKind.TASK)
        created = {invoice_key(self.org, r.spotilla_id) for r in transfers.values() if r.state == RecordState.LINKED}
        assert created == set(keys), "Spotilla's transfer records and Procountor's invoices disagree"
        assert self.in_doubt() == [], "a transfer or link was left in doubt"
        waiting = [t for t in self.spotilla.tasks_awaiting_invoice(self.org) if t.id not in self.eligible]
        for task in waiting:
            record = transfers.get(task.id)
            assert record is not None and record.reasons, f"task {task.id} waits without a reason"
        self.figures.held_back = max(self.figures.held_back, len(waiting))  # a scenario may have counted it earlier
        runs = self.state.runs(self.org, limit=10_000)
        # A killed run is closed as INTERRUPTED when the tenant's next run starts, so none may stay RUNNING.
        running = [r for r in runs if r.status == RunStatus.RUNNING]
        assert running == [], f"{len(running)} runs left RUNNING after {self.figures.kills} kills"
        return fake

    def assert_quiet_rerun(self) -> None:
        """A cycle right after a complete one creates and updates nothing in Procountor."""
        before = len(self.fake_requests())
        assert self.run() == 0, self.last_output()
        after = self.fake_requests()[before:]
        assert self.writes(after) == [], "a rerun after a complete cycle wrote to Procountor"

    def assert_no_secret_leaked(self) -> None:
        """Client secret, API key and every issued token: nowhere in output, run log, status, or any column."""
        assert self.credentials is not None
        self.run("status", "--organization", str(self.org))
        secrets = [self.credentials.client_secret, self.credentials.api_key, *self.fake.store.tokens]
        haystacks = {"process output": self.output(), **self._database_text()}
        for secret in secrets:
            for form in encodings(secret):
                for where, hay in haystacks.items():
                    assert form not in hay, f"a secret or token appears in {where}"

    def _database_text(self) -> dict[str, str]:
        texts = {}
        with self.engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f"SELECT * FROM {table}")).all()
                texts[f"table {table}"] = "\n".join(repr(tuple(row)) for row in rows)
        return texts


@contextmanager
def world(tmp_path: Path, *, database: str = "postgres", fake: FakeProcountor | None = None) -> Iterator[World]:
    """A fresh world; the tenant is switched on with canary credentials against the served fake."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    credentials = canary()
    fake = fake or FakeProcountor(
        client_id=credentials.client_id, client_secret=credentials.client_secret, api_key=credentials.api_key
    )
    fake.credentials = type(fake.credentials)(credentials.client_id, credentials.client_secret, credentials.api_key)
    with ExitStack() as stack:
        if database == "postgres":
            engine = stack.enter_context(postgres_engine())
            app_name = f"rel-{uuid.uuid4().hex[:12]}"
            url = engine.url.update_query_dict({"application_name": app_name}).render_as_string(hide_password=False)
        else:
            engine = sqlite_engine(tmp_path)
            url = engine.url.render_as_string(hide_password=False)
            stack.callback(engine.dispose)
        served = stack.enter_context(fake.serve())
        upgrade_database(engine)
        key = new_key()
        settings = Settings(
            database_url=url,
            secret_key=key,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            _env_file=None,
        )
        env = {
            **os.environ,
            "SPOTILLA_PROCOUNTOR_DATABASE_URL": url,
            "SPOTILLA_PROCOUNTOR_SECRET_KEY": key,
            "SPOTILLA_PROCOUNTOR_CLIENT_ID": credentials.client_id,
            "SPOTILLA_PROCOUNTOR_CLIENT_SECRET": credentials.client_secret,
            "SPOTILLA_PROCOUNTOR_LOG_FORMAT": "json",
            "SPOTILLA_PROCOUNTOR_LOG_LEVEL": "DEBUG",
            "SPOTILLA_PROCOUNTOR_REQUEST_TIMEOUT_S": "5",
            "SPOTILLA_PROCOUNTOR_LOCK_TTL_S": "2",
            # A killed process sends nothing more, so its claims may be looked up at once; the lost-lock
            # scenarios, whose first process lives on, set a grace of their own.
            "SPOTILLA_PROCOUNTOR_CLAIM_GRACE_S": "0",
            "COLUMNS": "200",
        }
        built = World(engine, fake, served.url, env, tmp_path)
        built.credentials = credentials
        built.sql("INSERT INTO organizations (id, name) VALUES (:o, 'Luotettava Huolto Oy')", {"o": built.org})
        container = build_container(settings)
        container.tenants().enable(
            built.org,
            credentials.api_key,
            environment=served.url,
            bank_account="FI4950009420028730",
            tasks_completed_from=date(2000, 1, 1),
        )
        container.engine().dispose()
        if database == "postgres":
            built.env["SPOTILLA_RELIABILITY_APP_NAME"] = app_name
        yield built


def wait_until(condition, seconds: float = 60, step: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(step)

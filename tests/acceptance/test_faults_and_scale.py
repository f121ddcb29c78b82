"""Acceptance checks of issues 3 and 4: faults lose or double nothing; statements do not grow with tasks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from dbutil import postgres_engine, sqlite_engine
from spotilla_procountor.adapters.memory import InMemorySpotilla, InMemoryStateStore, SystemClock
from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan
from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway, RateLimiter
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.domain.model import Customer, IntegrationSettings, Product, Task, TaskProduct, TaskStatus
from spotilla_procountor.domain.state import EntityKind, RunStatus
from spotilla_procountor.domain.sync import SyncCycle, SyncReport
from spotilla_procountor.domain.sync_context import SyncOptions

DONE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def gateway(fake: FakeProcountor) -> HttpProcountorGateway:
    return HttpProcountorGateway(
        base_url="http://fake.invalid",
        client_id="demo-client",
        client_secret="demo-secret",
        api_key="demo-api-key",
        bank_account="FI4950009420028730",
        transport=fake.transport(),
        rate_limiter=RateLimiter(10_000),
        sleep=lambda _s: None,
    )


def test_500_invoices_under_5xx_commit_then_fail_and_429_bursts_make_no_duplicate_and_miss_none() -> None:
    state = InMemoryStateStore()
    spotilla = InMemorySpotilla(state, tenant_settings={1: IntegrationSettings(1)})
    spotilla.customer_rows[1] = Customer(1, 1, "Asiakas Oy", "0112038-9", street_address="Katu 1", city="Helsinki")
    spotilla.product_rows[1] = Product(1, 1, "H-1", "Asennustyö", "h", Decimal("49.90"), Decimal("25.5"))
    for task_id in range(1, 501):
        used = (TaskProduct(task_id, 1, Decimal("1.5")),)
        spotilla.task_rows[task_id] = Task(task_id, 1, 1, "Huolto", TaskStatus.COMPLETED, None, DONE, products=used)
    fake = FakeProcountor(seed=3)
    fake.set_faults(
        FaultPlan(
            error_rate={"POST /invoices": 0.2, "GET /invoices": 0.2},
            commit_then_fail_rate={"POST /invoices": 0.1},
            burst_429={"POST /invoices": 25, "GET /invoices": 10},
            retry_after_s=0,
        )
    )
    cycle = SyncCycle(procountor=gateway(fake), spotilla=spotilla, state=state, clock=SystemClock())
    runs = 0
    while (runs < 30 and len({i["originalInvoiceNumber"] for i in fake.invoices()}) < 500) or runs == 0:
        cycle.run(1, fence=state.acquire_run_lock(1, "acceptance"))
        runs += 1
    fake.set_faults(FaultPlan())
    cycle.run(1, fence=state.acquire_run_lock(1, "acceptance"))  # a clean run settles every record left in doubt
    keys = Counter(i["originalInvoiceNumber"] for i in fake.invoices())
    print(f"\n500 invoices under faults: {runs} runs, {fake.route_counts['POST /invoices']} create calls")
    assert fake.route_counts["POST /invoices"] > 500  # faults really happened
    assert len(keys) == 500, "every task has an invoice"
    assert max(keys.values()) == 1, "no task has two"
    assert {r.state for r in state.records(1, EntityKind.TASK).values()} == {"LINKED"}


def _seed_plain_sql(engine: Engine, tasks: int) -> None:
    """An organization, a customer, a product and completed tasks with two task products, as an outside tool would."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organizations (id, name) VALUES (1, 'Huolto Oy')"))
        conn.execute(
            text(
                "INSERT INTO customers (id, organization_id, name, business_id, street_address, postal_code, city, "
                "country, created_at, updated_at) VALUES (1, 1, 'Asiakas Oy', '0112038-9', 'Katu 1', '00100', "
                "'Helsinki', 'FI', '2026-11-01 08:00:00', '2026-11-01 08:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO products (id, organization_id, code, name, unit, unit_price, vat_percent, created_at, "
                "updated_at) VALUES (1, 1, 'H-1', 'Asennustyö', 'h', 49.90, 25.5, '2026-11-01 08:00:00', "
                "'2026-11-01 08:00:00'), (2, 1, 'KM', 'Matkakulut', 'km', 0.59, 25.5, '2026-11-01 08:00:00', "
                "'2026-11-01 08:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO tasks (id, organization_id, customer_id, title, status, order_number, completed_at, "
                "created_at, updated_at) VALUES (:id, 1, 1, 'Huolto', 'COMPLETED', NULL, '2026-11-20 12:00:00', "
                "'2026-11-20 08:00:00', '2026-11-20 12:00:00')"
            ),
            [{"id": i} for i in range(1, tasks + 1)],
        )
        conn.execute(
            text("INSERT INTO task_products (task_id, product_id, quantity) VALUES (:t, :p, :q)"),
            [{"t": i, "p": p, "q": q} for i in range(1, tasks + 1) for p, q in ((1, "1.500"), (2, "12.000"))],
        )


class StatementCounter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


class LockedCycle:
    """A cycle run as the service runs it: under the tenant's run lock, with its fence."""

    def __init__(self, cycle: SyncCycle, state: SqlStateStore) -> None:
        self._cycle, self._state = cycle, state

    def run(self, organization_id: int) -> SyncReport:
        with self._state.run_lock(organization_id, "acceptance") as fence:
            return self._cycle.run(organization_id, fence=fence)


def _synced(engine: Engine, tasks: int) -> tuple[FakeProcountor, LockedCycle, StatementCounter]:
    upgrade_database(engine)
    _seed_plain_sql(engine, tasks)
    state = SqlStateStore(engine)
    state.save_settings(TenantConfig(organization_id=1, bank_account="FI4950009420028730"))
    fake = FakeProcountor()
    cycle = SyncCycle(
        procountor=gateway(fake),
        spotilla=SqlSpotillaRepository(engine),
        state=state,
        clock=SystemClock(),
        options=SyncOptions(workers=4),
    )
    return fake, LockedCycle(cycle, state), StatementCounter(engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    def sqlite(name: str) -> Engine:
        return sqlite_engine(tmp_path, name)

    if request.param == "sqlite":
        yield sqlite
        return
    stack = []

    def postgres(_name: str) -> Engine:
        context = postgres_engine()
        stack.append(context)
        return context.__enter__()

    yield postgres
    for context in stack:
        context.__exit__(None, None, None)


def test_plain_sql_rows_become_partner_product_and_invoice_and_a_second_sync_changes_nothing(engine_factory) -> None:
    fake, cycle, _ = _synced(engine_factory("e2e.sqlite3"), tasks=1)
    assert cycle.run(1).status == RunStatus.SUCCEEDED
    assert [p["invoicingInfo"]["identifier"] for p in fake.partners()] == ["0112038-9"]
    assert sorted(p["code"] for p in fake.products()) == ["H-1", "KM"]
    (invoice,) = fake.invoices()
    assert invoice["status"] == "UNFINISHED"
    rows = [
        (r["product"], Decimal(str(r["quantity"])), Decimal(str(r["unitPrice"])), Decimal(str(r["vatPercent"])))
        for r in invoice["invoiceRows"]
    ]
    assert sorted(rows) == [
        ("Asennustyö", Decimal("1.5"), Decimal("49.90"), Decimal("25.5")),
        ("Matkakulut", Decimal("12"), Decimal("0.59"), Decimal("25.5")),
    ]
    before = (fake.partners(), fake.products(), fake.invoices())
    second = cycle.run(1)
    assert second.counts == {}
    assert (fake.partners(), fake.products(), fake.invoices()) == before


def test_statements_of_a_cycle_do_not_grow_with_the_number_of_tasks(engine_factory) -> None:
    measured = {}
    for tasks in (100, 1000):
        _fake, cycle, counter = _synced(engine_factory(f"scale-{tasks}.sqlite3"), tasks=tasks)
        assert cycle.run(1).counts["invoices.CREATED"] == tasks
        counter.count = 0
        assert cycle.run(1).counts == {}
        measured[tasks] = counter.count
    print(f"\nSQL statements of a cycle after the first: {measured}")
    assert measured[100] == measured[1000]

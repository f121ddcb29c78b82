"""The world the scenarios act on: one tenant's Spotilla, the integration's state, and a fake Procountor.

Spotilla is written through a small `SpotillaBackend` interface, so the same features run on any backend
(see backends.py): a backend only has to store rows and expose the two ports.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import text

from spotilla_procountor.adapters.memory import SystemClock
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway
from spotilla_procountor.domain.keys import invoice_key
from spotilla_procountor.domain.model import (
    Customer,
    IntegrationSettings,
    Product,
    Task,
    TaskProduct,
    TaskStatus,
    Unreadable,
)
from spotilla_procountor.domain.ports import ProcountorGateway
from spotilla_procountor.domain.state import EntityKind, Record
from spotilla_procountor.domain.sync import SyncCycle, SyncReport
from spotilla_procountor.domain.sync_context import SyncOptions

from .backends import SpotillaBackend
from .procountor_side import BANK_ACCOUNT, BASE_URL, CREDENTIALS, ProcountorDesk, SteppingTimer
from .sql_backend import SqliteBackend

ORGANIZATION_ID = 1


@dataclass
class Named:
    """Spotilla ids of the things a scenario names."""

    customers: dict[str, int]
    products: dict[str, int]


class World:
    """One tenant: Spotilla behind a backend, Procountor behind the real gateway over the fake."""

    def __init__(self, backend: SpotillaBackend, procountor: FakeProcountor) -> None:
        self.organization_id = ORGANIZATION_ID
        self.backend = backend
        self.procountor = procountor
        self.desk = ProcountorDesk(procountor)
        timer = SteppingTimer()
        self.gateway = HttpProcountorGateway(
            base_url=BASE_URL,
            **CREDENTIALS,
            bank_account=BANK_ACCOUNT,
            transport=procountor.transport(),
            sleep=timer.sleep,
            monotonic=timer,
        )
        self.settings = IntegrationSettings(ORGANIZATION_ID)
        self.names = Named({}, {})
        self._customers: dict[int, Customer] = {}
        self._products: dict[int, Product] = {}
        self._tasks: dict[int, Task] = {}
        self.reports: list[SyncReport] = []
        backend.switch_on(self.settings)

    # ------------------------------------------------------------ Spotilla, as its users change it

    def configure(self, **changes: object) -> None:
        self.settings = replace(self.settings, **changes)  # type: ignore[arg-type]
        self.backend.switch_on(self.settings)

    def add_customer(self, name: str | None, business_id: str | None, **fields: object) -> Customer:
        """A customer as Spotilla's users enter it; a work-site address is filled in unless given."""
        # An id no customer has: customers brought in from Procountor got theirs from Spotilla meanwhile.
        taken = {c.id for c in self.customers()} | set(self._customers)
        customer_id = min(set(range(1, len(taken) + 2)) - taken)
        defaults = {"street_address": "Työmaantie 5", "postal_code": "00500", "city": "Helsinki", "country": "FI"}
        customer = Customer(customer_id, self.organization_id, name, business_id, **{**defaults, **fields})  # type: ignore[arg-type]
        self._customers[customer_id] = customer
        if name:
            self.names.customers[name] = customer_id
        self.names.customers[f"business ID {business_id or ''}"] = customer_id
        self.backend.put_customer(customer)
        return customer

    def customer_id(self, ref: str) -> int:
        """The Spotilla id of a customer named in a scenario (by name, or as 'business ID …')."""
        return self.names.customers[ref]

    def change_customer(self, ref: str, **changes: object) -> Customer:
        current = self.customer_by_id(self.customer_id(ref))
        changed = replace(current, **changes)  # type: ignore[arg-type]
        self.backend.put_customer(changed)
        return changed

    def remove_customer(self, ref: str) -> None:
        self.backend.remove_customer(self.customer_id(ref))

    def add_product(self, code: str | None, name: str, unit: str, price: Decimal, vat: Decimal) -> Product:
        product_id = len(self._products) + 1
        product = Product(product_id, self.organization_id, code, name, unit, price, vat)
        self._products[product_id] = product
        self.names.products[name] = product_id
        if code:
            self.names.products[code] = product_id
        self.backend.put_product(product)
        return product

    def change_product(self, key: str, **changes: object) -> Product:
        changed = replace(self.product(key), **changes)  # type: ignore[arg-type]
        self.backend.put_product(changed)
        return changed

    def remove_product(self, key: str) -> None:
        self.backend.remove_product(self.names.products[key])

    def add_task(
        self,
        task_id: int,
        customer: str | None,
        *,
        status: TaskStatus = TaskStatus.COMPLETED,
        completed_at: datetime | None = None,
        order_number: str | None = None,
        used: list[tuple[str, Decimal]] = (),  # type: ignore[assignment]
    ) -> Task:
        customer_id = self.customer_id(customer) if customer else None
        if status == TaskStatus.COMPLETED and completed_at is None:
            completed_at = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
        task = Task(
            task_id,
            self.organization_id,
            customer_id,
            f"Work order {task_id}",
            status,
            order_number=order_number,
            completed_at=completed_at,
            products=self._task_products(task_id, used),
        )
        self._tasks[task_id] = task
        self.backend.put_task(task)
        return task

    def change_task(self, task_id: int, *, used: list[tuple[str, Decimal]] | None = None, **changes: object) -> Task:
        if used is not None:
            changes["products"] = self._task_products(task_id, used)
        changed = replace(self._tasks[task_id], **changes)  # type: ignore[arg-type]
        self._tasks[task_id] = changed
        self.backend.put_task(changed)
        return changed

    def used_on(self, task_id: int) -> list[tuple[str, Decimal]]:
        """(product code or name, quantity) of each product used on a task, as the scenario named them."""
        by_id = {pid: key for key, pid in reversed(self.names.products.items())}
        return [(by_id[tp.product_id], tp.quantity) for tp in self._tasks[task_id].products]

    def _task_products(self, task_id: int, used: list[tuple[str, Decimal]]) -> tuple[TaskProduct, ...]:
        return tuple(
            TaskProduct(task_id * 100 + i, self.names.products[key], quantity)
            for i, (key, quantity) in enumerate(used, start=1)
        )

    # ------------------------------------------------------------ values only outside tools leave behind

    def write_raw(self, sql: str, memory: object, **params: object) -> None:
        """A value written as an outside tool may write it: with plain SQL on SQLite, else as the adapter reads it.

        `memory` is the change made in memory instead: a callable given nothing.
        """
        if isinstance(self.backend, SqliteBackend):
            with self.backend.engine.begin() as connection:
                connection.execute(text(sql), params)
        else:
            memory()  # type: ignore[operator]

    def spoil_quantity(self, task_id: int, key: str, raw: str) -> None:
        product_id = self.names.products[key]
        used = tuple(
            replace(tp, quantity=as_read(raw)) if tp.product_id == product_id else tp
            for tp in self._tasks[task_id].products
        )
        sql = "UPDATE task_products SET quantity = :raw WHERE task_id = :t AND product_id = :p"
        self.write_raw(sql, lambda: self.change_task(task_id, products=used), raw=raw, t=task_id, p=product_id)

    def spoil_price(self, key: str, raw: str) -> None:
        product_id = self.names.products[key]
        sql = "UPDATE products SET unit_price = :raw WHERE id = :p"
        self.write_raw(sql, lambda: self.change_product(key, unit_price=as_read(raw)), raw=raw, p=product_id)

    def spoil_completion_time(self, task_id: int, raw: str) -> None:
        sql = "UPDATE tasks SET completed_at = :raw WHERE id = :t"
        self.write_raw(sql, lambda: self.change_task(task_id, completed_at=Unreadable(raw)), raw=raw, t=task_id)

    def spoil_payment_term(self, ref: str, raw: str) -> None:
        sql = "UPDATE customers SET payment_term_days = :raw WHERE id = :c"
        unreadable = Unreadable(raw)
        self.write_raw(
            sql, lambda: self.change_customer(ref, payment_term_days=unreadable), raw=raw, c=self.customer_id(ref)
        )

    def another_organization(self) -> int:
        """A second organization in the same Spotilla, which has not switched the integration on."""
        other = self.organization_id + 1
        sql = "INSERT OR IGNORE INTO organizations (id, name) VALUES (:o, 'Toinen Oy')"
        self.write_raw(sql, lambda: None, o=other)
        return other

    def add_foreign_customer(self, name: str, business_id: str) -> Customer:
        customer = Customer(9000 + len(self.names.customers), self.another_organization(), name, business_id)
        self.names.customers[name] = customer.id
        self.backend.put_customer(customer)
        return customer

    def add_foreign_product(self, code: str, name: str, unit: str, price: Decimal, vat: Decimal) -> Product:
        product_id = len(self._products) + 1
        product = Product(product_id, self.another_organization(), code, name, unit, price, vat)
        self._products[product_id] = product
        self.names.products[code] = product_id
        self.backend.put_product(product)
        return product

    # ------------------------------------------------------------ the integration

    def run(self, *, dry_run: bool = False, procountor: ProcountorGateway | None = None) -> SyncReport:
        """One cycle of the tenant, as the scheduler starts it every 30 minutes."""
        cycle = SyncCycle(
            procountor=procountor or self.gateway,
            spotilla=self.backend.spotilla,
            state=self.backend.state,
            clock=SystemClock(),
            # Runs in a scenario stand for scheduled runs, an interval apart: an earlier run's create is never
            # still on its way (tests/domain/test_create_once.py covers the grace itself).
            options=SyncOptions(claim_grace=timedelta(0)),
        )
        if dry_run:
            report = cycle.run(self.organization_id, dry_run=True)
        else:
            with self.backend.state.run_lock(self.organization_id, "spec-run") as fence:
                report = cycle.run(self.organization_id, fence=fence)
        self.reports.append(report)
        return report

    # ------------------------------------------------------------ reading Spotilla and the state back

    def customers(self) -> list[Customer]:
        return sorted(self.backend.spotilla.customers(self.organization_id), key=lambda c: c.id)

    def customer_by_id(self, customer_id: int) -> Customer:
        return next(c for c in self.customers() if c.id == customer_id)

    def customers_with_business_id(self, business_id: str) -> list[Customer]:
        return [c for c in self.customers() if c.business_id == business_id]

    def customer(self, name: str) -> Customer:
        found = [c for c in self.customers() if c.name == name]
        assert len(found) == 1, f"Spotilla has {len(found)} customers named {name!r}"
        return found[0]

    def product(self, key: str) -> Product:
        product_id = self.names.products[key]
        return next(p for p in self.backend.spotilla.products(self.organization_id) if p.id == product_id)

    def link(self, kind: EntityKind, spotilla_id: int) -> Record | None:
        return self.backend.state.records(self.organization_id, kind).get(spotilla_id)

    def transfer(self, task_id: int) -> Record | None:
        return self.backend.state.records(self.organization_id, EntityKind.TASK, [task_id]).get(task_id)

    # ------------------------------------------------------------ reading Procountor

    def invoices_of_task(self, task_id: int) -> list[dict]:
        key = invoice_key(self.organization_id, task_id)
        return [i for i in self.procountor.invoices() if i.get("originalInvoiceNumber") == key]

    def invoice_of_task(self, task_id: int) -> dict:
        found = self.invoices_of_task(task_id)
        assert len(found) == 1, f"Procountor has {len(found)} invoices for task {task_id}"
        return found[0]

    def partners_with_business_id(self, business_id: str) -> list[dict]:
        return [
            p for p in self.procountor.partners() if (p.get("invoicingInfo") or {}).get("identifier") == business_id
        ]

    def partners_named(self, name: str) -> list[dict]:
        return [p for p in self.procountor.partners() if p["name"] == name]

    def products_with_code(self, code: str) -> list[dict]:
        return [p for p in self.procountor.products() if p.get("code") == code]

    def procountor_snapshot(self) -> dict[str, list[dict]]:
        """Everything the Procountor company holds."""
        return {
            "partners": self.procountor.partners(),
            "products": self.procountor.products(),
            "invoices": self.procountor.invoices(),
        }

    def close(self) -> None:
        self.desk.close()
        self.gateway.close()
        self.backend.close()


def as_read(raw: str) -> Decimal | Unreadable:
    """A number column's text as the SQL adapter reads it: a Decimal (NaN and Infinity too), else unreadable."""
    try:
        return Decimal(raw)
    except InvalidOperation:
        return Unreadable(raw)

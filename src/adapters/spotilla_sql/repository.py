"""`SqlSpotillaRepository`: Spotilla's registers read (and customers written) with SQLAlchemy."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import Column, CursorResult, Engine, Label, Select, exists, insert, select, type_coerce, update
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from spotilla_procountor.adapters.spotilla_sql._sql import chunked, system_now, translated_errors
from spotilla_procountor.adapters.spotilla_sql.models import CustomerRow, ProductRow, TaskProductRow, TaskRow
from spotilla_procountor.adapters.spotilla_sql.state_models import RecordRow, SettingsRow
from spotilla_procountor.domain.errors import RepositoryError
from spotilla_procountor.domain.model import (
    Customer,
    CustomerFields,
    IntegrationSettings,
    Product,
    Task,
    TaskProduct,
    TaskStatus,
    TransferPolicy,
    Unreadable,
)
from spotilla_procountor.domain.ports import Clock
from spotilla_procountor.domain.state import EntityKind, RecordState

# The only customer columns the integration may write (database contract, "What the integration may write").
CUSTOMER_WRITABLE = (
    "name",
    "business_id",
    "email",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "billing_email",
    "einvoice_address",
    "einvoice_operator",
    "payment_term_days",
)


class SqlSpotillaRepository:
    """Spotilla's registers for one tenant at a time, in SQLite or PostgreSQL. Raises only `RepositoryError`."""

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self._now = clock.now if clock is not None else system_now

    def settings(self, organization_id: int) -> IntegrationSettings | None:
        """The tenant's settings from `procountor_settings`.

        None when the tenant has no settings row at all; a row switched off comes back with
        `enabled=False`, so the caller can tell "never set up" from "paused".
        """
        with translated_errors("reading integration settings"), Session(self._engine) as session:
            row = session.get(SettingsRow, organization_id)
            if row is None:
                return None
            return IntegrationSettings(
                organization_id=row.organization_id,
                enabled=bool(row.enabled),
                policy=TransferPolicy(row.policy),
                default_payment_term_days=row.default_payment_term_days,
                has_bank_account=bool((row.bank_account or "").strip()),
                tasks_completed_from=row.tasks_completed_from,
                **_own_limits(row),
            )

    def products(self, organization_id: int, ids: Iterable[int] | None = None) -> list[Product]:
        """Products of the tenant (all, or those with the given ids; one statement per 500 ids), by id."""
        query = select(*_PRODUCT_COLUMNS).where(_PRODUCTS.c.organization_id == organization_id)
        with translated_errors("reading products"):
            return self._read(query, _PRODUCTS.c.id, ids, _product)

    def customers(self, organization_id: int, ids: Iterable[int] | None = None) -> list[Customer]:
        """Customers of the tenant (all, or those with the given ids; one statement per 500 ids), by id."""
        query = select(*_CUSTOMER_COLUMNS).where(_CUSTOMERS.c.organization_id == organization_id)
        with translated_errors("reading customers"):
            return self._read(query, _CUSTOMERS.c.id, ids, _customer)

    def tasks_awaiting_invoice(self, organization_id: int) -> list[Task]:
        """COMPLETED tasks with no invoice created yet (no LINKED task record), with their task products.

        Always two statements, however many tasks there are: the tasks, then all their task products.
        """
        tasks_t, used_t = TaskRow.__table__, TaskProductRow.__table__
        invoiced = exists().where(
            RecordRow.organization_id == tasks_t.c.organization_id,
            RecordRow.kind == EntityKind.TASK.value,
            RecordRow.spotilla_id == tasks_t.c.id,
            RecordRow.state == RecordState.LINKED.value,
        )
        awaiting = (
            tasks_t.c.organization_id == organization_id,
            tasks_t.c.status == TaskStatus.COMPLETED.value,
            ~invoiced,
        )
        with translated_errors("reading tasks awaiting an invoice"), self._engine.connect() as connection:
            tasks = connection.execute(select(*_TASK_COLUMNS).where(*awaiting).order_by(tasks_t.c.id)).all()
            if not tasks:
                return []
            used = connection.execute(
                select(used_t.c.task_id, used_t.c.id, used_t.c.product_id, _raw(used_t.c.quantity))
                .where(used_t.c.task_id.in_(select(tasks_t.c.id).where(*awaiting)))
                .order_by(used_t.c.task_id, used_t.c.id)
            )
            by_task: dict[int, list[TaskProduct]] = defaultdict(list)
            for task_id, row_id, product_id, quantity in used:
                by_task[task_id].append(TaskProduct(id=row_id, product_id=product_id, quantity=_decimal(quantity, 3)))
            return [_task(row, tuple(by_task.get(row.id, ()))) for row in tasks]

    def add_customer(self, organization_id: int, fields: CustomerFields) -> int:
        """Creates a customer from a Procountor partner, writing only the Procountor-owned columns; returns its id."""
        now = self._now()
        values = {**_writable(fields), "organization_id": organization_id, "created_at": now, "updated_at": now}
        with translated_errors("adding a customer"), Session(self._engine) as session, session.begin():
            result = session.execute(insert(CustomerRow).values(values).returning(CustomerRow.id))
            return int(result.scalar_one())

    def update_customer(self, organization_id: int, customer_id: int, fields: CustomerFields) -> None:
        """Overwrites the Procountor-owned columns of a tenant's customer and bumps `updated_at`."""
        stmt = (
            update(CustomerRow)
            .where(CustomerRow.organization_id == organization_id, CustomerRow.id == customer_id)
            .values({**_writable(fields), "updated_at": self._now()})
            .execution_options(synchronize_session=False)
        )
        with translated_errors("updating a customer"), Session(self._engine) as session, session.begin():
            if cast(CursorResult[Any], session.execute(stmt)).rowcount == 0:
                raise RepositoryError(f"Customer {customer_id} does not exist in organization {organization_id}")

    def display_names(self, organization_id: int, kind: EntityKind, ids: Iterable[int]) -> dict[int, str]:
        """Task titles, customer or product names of the tenant's items, by id (one statement per 500 ids); ids that
        are not the tenant's items of that kind, and blank names, are left out. Only the id and the name are read:
        a bad value elsewhere in a row does not keep its name from a page."""
        table, name = _NAMES[EntityKind(kind)]
        query = select(table.c.id, table.c[name]).where(table.c.organization_id == organization_id)
        with translated_errors("reading names"), self._engine.connect() as connection:
            chunks = (connection.execute(query.where(table.c.id.in_(chunk))) for chunk in chunked(ids))
            return {row_id: value.strip() for rows in chunks for row_id, value in rows if _readable_name(value)}

    def _read(
        self, query: Select[Any], id_column: Any, ids: Iterable[int] | None, convert: Callable[[Any], Any]
    ) -> list[Any]:
        """Core rows, not ORM objects: a cycle reads whole registers, and mapped instances cost several times more."""
        query = query.order_by(id_column)
        with self._engine.connect() as connection:
            if ids is None:
                return [convert(row) for row in connection.execute(query)]
            chunks = (connection.execute(query.where(id_column.in_(chunk))) for chunk in chunked(ids))
            return [convert(row) for rows in chunks for row in rows]


def _raw(column: Column[Any]) -> Label[Any]:
    """A column read as the driver gives it, without SQLAlchemy's conversion, which raises on a bad value (text
    in a numeric column on SQLite) and would fail the whole read; the value is converted per row instead."""
    return type_coerce(column, NullType()).label(column.name)


# Columns whose values are converted per row, so one bad value only marks its own item (see `Unreadable`).
_CONVERTED = {"unit_price", "vat_percent", "payment_term_days", "completed_at"}


def _columns(table: Any, names: Iterable[str]) -> list[Any]:
    return [_raw(table.c[name]) if name in _CONVERTED else table.c[name] for name in names]


# Core columns named like the domain's fields (the contract's column names), in the same order.
_PRODUCTS, _CUSTOMERS = ProductRow.__table__, CustomerRow.__table__
_PRODUCT_COLUMNS = _columns(_PRODUCTS, (f.name for f in dataclasses.fields(Product)))
_CUSTOMER_COLUMNS = _columns(_CUSTOMERS, (f.name for f in dataclasses.fields(Customer)))
_TASK_COLUMNS = _columns(TaskRow.__table__, (f.name for f in dataclasses.fields(Task) if f.name != "products"))
_NAMES = {
    EntityKind.TASK: (TaskRow.__table__, "title"),
    EntityKind.CUSTOMER: (_CUSTOMERS, "name"),
    EntityKind.PRODUCT: (_PRODUCTS, "name"),
}
"""The table of each kind of item, and the column people know an item by."""


def _readable_name(value: object) -> bool:
    """Text that is not blank (SQLite keeps whatever an outside tool wrote, bytes too, in a text column)."""
    return isinstance(value, str) and bool(value.strip())


def _decimal(value: object, scale: int) -> Decimal | Unreadable | None:
    """A numeric column's value as a Decimal (NaN and Infinity kept, to be judged), or `Unreadable`."""
    if isinstance(value, Decimal) or value is None:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(f"{value:.{scale}f}")  # as SQLAlchemy's Numeric reads SQLite's numbers
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    return Unreadable(str(value))


def _integer(value: object) -> int | Unreadable | None:
    """An integer column's value as an int, or `Unreadable` (SQLite keeps text in an integer column)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    return Unreadable(str(value))


def _moment(value: object) -> datetime | Unreadable | None:
    """A timestamp column's value as an aware UTC datetime (naive ones are UTC, as `UtcDateTime` reads them)."""
    if value is None:
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return Unreadable(value)
    if not isinstance(moment, datetime):
        return Unreadable(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _writable(fields: CustomerFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in CUSTOMER_WRITABLE}


def _reader(cls: Callable[..., Any], converters: dict[str, Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """Makes a domain object from a row of its columns (in field order), converting the values named."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    positions = [(i, converters[name]) for i, name in enumerate(names) if name in converters]

    def read(row: Any) -> Any:
        values = list(row)
        for i, convert in positions:
            values[i] = convert(values[i])
        return cls(*values)

    return read


def _price(value: object) -> Decimal | Unreadable | None:
    return _decimal(value, 2)


_product = _reader(Product, {"unit_price": _price, "vat_percent": _price})
_customer = _reader(Customer, {"payment_term_days": _integer})


def _task(row: Any, products: tuple[TaskProduct, ...]) -> Task:
    return Task(
        id=row.id,
        organization_id=row.organization_id,
        customer_id=row.customer_id,
        title=row.title,
        status=TaskStatus(row.status),
        order_number=row.order_number,
        completed_at=_moment(row.completed_at),
        description=row.description,
        products=products,
    )


def _own_limits(row: Any) -> dict[str, Any]:
    """The tenant's own sanity limits where it set them; the defaults of `IntegrationSettings` elsewhere."""
    names = ("quantity_ceiling", "invoice_total_ceiling", "completion_clock_skew_minutes")
    return {name: getattr(row, name) for name in names if getattr(row, name, None) is not None}

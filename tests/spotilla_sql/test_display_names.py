"""The names people know items by (task titles, customer and product names), for the admin page's lists.

Each test runs on SQLite, PostgreSQL and the in-memory Spotilla.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import Engine

from dbutil import postgres_engine, sqlite_engine
from spotilla_procountor.adapters.memory import InMemorySpotilla, InMemoryStateStore
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.domain.model import Customer, Product, Task, TaskStatus
from spotilla_procountor.domain.state import EntityKind

from .seed import Seed, count_statements


class Registers(Protocol):
    """Spotilla's registers, filled the backend's own way, and the repository reading them."""

    repository: SqlSpotillaRepository | InMemorySpotilla

    def organization(self) -> int: ...
    def task(self, org: int, title: str) -> int: ...
    def customer(self, org: int, name: str | None) -> int: ...
    def product(self, org: int, name: str) -> int: ...
    def products(self, org: int, names: list[str]) -> dict[int, str]: ...


class SqlRegisters:
    def __init__(self, engine: Engine) -> None:
        self.seed = Seed(engine)
        self.engine = engine
        self.repository = SqlSpotillaRepository(engine)

    def organization(self) -> int:
        return self.seed.organization()

    def task(self, org: int, title: str) -> int:
        return self.seed.task(org, title=title)

    def customer(self, org: int, name: str | None) -> int:
        return self.seed.customer(org, name=name)

    def product(self, org: int, name: str) -> int:
        return self.seed.product(org, name=name)

    def products(self, org: int, names: list[str]) -> dict[int, str]:
        rows = [
            {"organization_id": org, "name": n, "unit": "h", "unit_price": "1", "vat_percent": "25.5"} for n in names
        ]
        self.seed.insert_many("products", rows)
        return {p.id: p.name for p in self.repository.products(org)}


class MemoryRegisters:
    def __init__(self) -> None:
        self.repository = InMemorySpotilla(state=InMemoryStateStore())
        self._ids = itertools.count(1)

    def organization(self) -> int:
        return next(self._ids)

    def task(self, org: int, title: str) -> int:
        task = Task(next(self._ids), org, None, title, TaskStatus.COMPLETED)
        self.repository.task_rows[task.id] = task
        return task.id

    def customer(self, org: int, name: str | None) -> int:
        customer = Customer(next(self._ids), org, name, None)
        self.repository.customer_rows[customer.id] = customer
        return customer.id

    def product(self, org: int, name: str) -> int:
        product = Product(next(self._ids), org, None, name, "h", Decimal("65.00"), Decimal("25.5"))
        self.repository.product_rows[product.id] = product
        return product.id

    def products(self, org: int, names: list[str]) -> dict[int, str]:
        return {self.product(org, name): name for name in names}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def registers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registers]:
    if request.param == "memory":
        yield MemoryRegisters()
    elif request.param == "sqlite":
        engine = sqlite_engine(tmp_path)
        upgrade_database(engine)
        yield SqlRegisters(engine)
        engine.dispose()
    else:
        with postgres_engine() as engine:
            upgrade_database(engine)
            yield SqlRegisters(engine)


def test_tasks_customers_and_products_are_named_by_their_spotilla_ids(registers: Registers) -> None:
    org = registers.organization()
    leak = registers.task(org, "Vesivuoto keittiössä")
    heating = registers.task(org, "Lämmityksen huolto")
    customer = registers.customer(org, "Asunto Oy Kuusikko")
    product = registers.product(org, "Asennustyö")

    names = registers.repository.display_names

    assert names(org, EntityKind.TASK, [leak, heating]) == {leak: "Vesivuoto keittiössä", heating: "Lämmityksen huolto"}
    assert names(org, EntityKind.CUSTOMER, [customer]) == {customer: "Asunto Oy Kuusikko"}
    assert names(org, EntityKind.PRODUCT, [product]) == {product: "Asennustyö"}
    assert names(org, EntityKind.PRODUCT, []) == {}


def test_another_organizations_items_and_ids_that_no_longer_exist_are_not_named(registers: Registers) -> None:
    ours, theirs = registers.organization(), registers.organization()
    our_task, their_task = registers.task(ours, "Oma työ"), registers.task(theirs, "Vieras työ")
    their_customer = registers.customer(theirs, "Vieras Oy")

    names = registers.repository.display_names

    assert names(ours, EntityKind.TASK, [our_task, their_task, 999_999_999]) == {our_task: "Oma työ"}
    assert names(ours, EntityKind.CUSTOMER, [their_customer]) == {}


def test_a_customer_without_a_name_is_left_out(registers: Registers) -> None:
    org = registers.organization()
    named, nameless, blank = (registers.customer(org, n) for n in ("Hyvä Oy", None, "   "))

    assert registers.repository.display_names(org, EntityKind.CUSTOMER, [named, nameless, blank]) == {named: "Hyvä Oy"}


def test_more_ids_than_one_statement_takes_are_all_named(registers: Registers) -> None:
    org = registers.organization()
    products = registers.products(org, [f"Tuote {i}" for i in range(1_100)])

    asked = [*products, *list(products)[:10], 999_999_999]
    if isinstance(registers, SqlRegisters):
        with count_statements(registers.engine) as statements:
            named = registers.repository.display_names(org, EntityKind.PRODUCT, iter(asked))
        assert len(statements) == 3  # 1 100 distinct ids, 500 a statement
    else:
        named = registers.repository.display_names(org, EntityKind.PRODUCT, iter(asked))

    assert named == products


@pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)  # PostgreSQL refuses text in such columns
def test_names_are_read_when_other_columns_of_the_rows_are_unreadable(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org = seed.organization()
    product = seed.product(org, name="Ilmaistyö", price="ilmainen", vat="paljon")
    customer = seed.customer(org, name="Outo Oy", payment_term_days="pian", created_at="eilen")
    task = seed.task(org, title="Myöhäinen työ", completed_at="eilen illalla", updated_at="joskus")

    assert repository.display_names(org, EntityKind.PRODUCT, [product]) == {product: "Ilmaistyö"}
    assert repository.display_names(org, EntityKind.CUSTOMER, [customer]) == {customer: "Outo Oy"}
    assert repository.display_names(org, EntityKind.TASK, [task]) == {task: "Myöhäinen työ"}

"""Rows outside tools insert with plain SQL come back as the right domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.domain.errors import RepositoryError
from spotilla_procountor.domain.model import (
    Customer,
    IntegrationSettings,
    Product,
    Task,
    TaskProduct,
    TaskStatus,
    TransferPolicy,
    Unreadable,
)

from .seed import Seed, count_statements


def test_a_customer_inserted_with_only_the_required_columns_reads_back_with_defaults(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org = seed.organization()
    customer_id = seed.customer(org)

    assert repository.customers(org) == [Customer(id=customer_id, organization_id=org, name=None, business_id=None)]
    stored = seed.row("customers", customer_id)
    assert stored["country"] == "FI"
    assert stored["created_at"] is not None
    assert stored["updated_at"] is not None


def test_every_customer_column_reads_back(seed: Seed, repository: SqlSpotillaRepository) -> None:
    org = seed.organization()
    columns = {
        "name": "Asunto Oy Kuusikko",
        "business_id": "1234567-8",
        "email": "isannointi@kuusikko.fi",
        "phone": "+358 40 123 4567",
        "street_address": "Kuusitie 3",
        "postal_code": "00100",
        "city": "Helsinki",
        "country": "FI",
        "billing_street": "PL 12",
        "billing_postal_code": "00101",
        "billing_city": "Helsinki",
        "billing_country": "FI",
        "billing_email": "laskut@kuusikko.fi",
        "einvoice_address": "003712345678",
        "einvoice_operator": "003721291126",
        "payment_term_days": 21,
    }
    customer_id = seed.customer(org, **columns)

    assert repository.customers(org, [customer_id]) == [Customer(id=customer_id, organization_id=org, **columns)]


def test_products_keep_prices_and_vat_as_exact_decimals(seed: Seed, repository: SqlSpotillaRepository) -> None:
    org = seed.organization()
    work = seed.product(org, name="Asennustyö", unit="h", price="65.00", vat="25.5", code="TYO")
    pipe = seed.product(org, name="Kupariputki 15 mm", unit="m", price="12.35", vat="25.50")

    products = repository.products(org)

    assert products == [
        Product(work, org, "TYO", "Asennustyö", "h", Decimal("65.00"), Decimal("25.50")),
        Product(pipe, org, None, "Kupariputki 15 mm", "m", Decimal("12.35"), Decimal("25.50")),
    ]
    assert all(isinstance(p.unit_price, Decimal) and isinstance(p.vat_percent, Decimal) for p in products)


def test_registers_only_show_the_tenants_own_rows(seed: Seed, repository: SqlSpotillaRepository) -> None:
    ours, theirs = seed.organization("Oma Oy"), seed.organization("Muu Oy")
    our_product, their_product = seed.product(ours), seed.product(theirs)
    seed.customer(theirs, name="Vieras")

    assert [p.id for p in repository.products(ours)] == [our_product]
    assert repository.products(ours, [their_product]) == []
    assert repository.customers(ours) == []


def test_products_asked_by_id_are_fetched_in_chunks_of_500(
    engine: Engine, seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org = seed.organization()
    seed.insert_many(
        "products",
        [
            {"organization_id": org, "name": f"Tuote {i}", "unit": "pcs", "unit_price": "1.00", "vat_percent": "25.5"}
            for i in range(600)
        ],
    )
    ids = [p.id for p in repository.products(org)]

    with count_statements(engine) as statements:
        found = repository.products(org, [*ids, *ids[:10], 999_999_999])
        nothing = repository.products(org, [])

    assert [p.id for p in found] == ids
    assert nothing == []
    assert len(statements) == 2


def test_a_completed_task_comes_with_its_task_products_and_a_utc_completion_time(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org = seed.organization()
    customer = seed.customer(org, name="Asunto Oy Kuusikko")
    work, pipe = seed.product(org), seed.product(org, name="Putki", unit="m")
    task = seed.task(org, customer_id=customer, order_number="PO-77", completed_at="2025-03-01 12:00:00")
    hours = seed.task_product(task, work, "2.5")
    metres = seed.task_product(task, pipe, "0.125")

    assert repository.tasks_awaiting_invoice(org) == [
        Task(
            id=task,
            organization_id=org,
            customer_id=customer,
            title="Vesivuoto",
            status=TaskStatus.COMPLETED,
            order_number="PO-77",
            completed_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
            products=(TaskProduct(hours, work, Decimal("2.500")), TaskProduct(metres, pipe, Decimal("0.125"))),
        )
    ]


def test_only_completed_tasks_without_a_created_invoice_await_invoicing(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org, other = seed.organization(), seed.organization("Muu Oy")
    waiting = seed.task(org, title="Ei siirretty")
    failed = seed.task(org, title="Epäonnistui")
    invoiced = seed.task(org, title="Laskutettu")
    for status in ("OPEN", "IN_PROGRESS", "CANCELLED"):
        seed.task(org, status=status)
    seed.task(other)
    seed.transfer(org, failed, "FAILED")
    seed.transfer(org, invoiced, "CREATED")

    awaiting = repository.tasks_awaiting_invoice(org)

    assert [(t.id, t.products, t.customer_id, t.completed_at) for t in awaiting] == [
        (waiting, (), None, None),
        (failed, (), None, None),
    ]


def test_a_transfer_created_in_another_tenant_does_not_hide_a_task(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org, other = seed.organization(), seed.organization("Muu Oy")
    task = seed.task(org)
    seed.transfer(other, task, "CREATED")

    assert [t.id for t in repository.tasks_awaiting_invoice(org)] == [task]


@pytest.mark.parametrize("task_count", [10, 500])
def test_tasks_awaiting_invoice_take_two_statements_however_many_tasks(
    engine: Engine, seed: Seed, repository: SqlSpotillaRepository, task_count: int
) -> None:
    org = seed.organization()
    product = seed.product(org)
    seed.insert_many(
        "tasks", [{"organization_id": org, "title": f"T{i}", "status": "COMPLETED"} for i in range(task_count)]
    )
    task_ids = [t.id for t in repository.tasks_awaiting_invoice(org)]
    seed.insert_many("task_products", [{"task_id": t, "product_id": product, "quantity": "1.5"} for t in task_ids * 2])

    with count_statements(engine) as statements:
        tasks = repository.tasks_awaiting_invoice(org)

    assert len(tasks) == task_count
    assert all(len(t.products) == 2 for t in tasks)
    assert len(statements) == 2


def test_settings_are_none_until_a_settings_row_exists(seed: Seed, repository: SqlSpotillaRepository) -> None:
    org = seed.organization()

    assert repository.settings(org) is None


def test_a_settings_row_inserted_with_plain_sql_takes_the_defaults(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org = seed.organization()
    seed.insert_many("procountor_settings", [{"organization_id": org}])

    assert repository.settings(org) == IntegrationSettings(
        organization_id=org,
        enabled=True,
        policy=TransferPolicy.ALL_COMPLETED,
        default_payment_term_days=14,
        has_bank_account=False,  # invoices wait for it (NO_BANK_ACCOUNT)
        tasks_completed_from=None,  # no start day: a tenant set up before start days
    )


def test_a_switched_off_tenant_gets_its_settings_with_enabled_false(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org = seed.organization()
    seed.insert_many(
        "procountor_settings",
        [{"organization_id": org, "enabled": False, "policy": "WITH_ORDER_NUMBER", "default_payment_term_days": 30}],
    )

    assert repository.settings(org) == IntegrationSettings(
        org, False, TransferPolicy.WITH_ORDER_NUMBER, 30, has_bank_account=False
    )


def test_an_unknown_policy_is_a_repository_error(seed: Seed, repository: SqlSpotillaRepository) -> None:
    org = seed.organization()
    seed.insert_many("procountor_settings", [{"organization_id": org, "policy": "SOMETIMES"}])

    with pytest.raises(RepositoryError, match="SOMETIMES"):
        repository.settings(org)


def test_database_failures_surface_as_repository_errors(empty_engine: Engine) -> None:
    repository = SqlSpotillaRepository(empty_engine)  # no tables at all

    with pytest.raises(RepositoryError, match="reading tasks awaiting an invoice"):
        repository.tasks_awaiting_invoice(1)


@pytest.mark.parametrize(
    "written",
    ["2025-03-01 12:00:00", "2025-03-01T12:00:00", "2025-03-01 12:00:00.000000", "2025-03-01T12:00:00Z"],
)
def test_completion_times_written_by_outside_tools_are_read_as_utc(
    seed: Seed, repository: SqlSpotillaRepository, written: str
) -> None:
    org = seed.organization()
    seed.task(org, completed_at=written)

    [task] = repository.tasks_awaiting_invoice(org)

    assert task.completed_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------- values that cannot be read (issue 12)


def _dialect(seed: Seed) -> str:
    return seed.engine.dialect.name


def test_a_quantity_or_price_that_is_not_a_number_is_read_as_such_and_the_other_rows_as_usual(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org = seed.organization()
    good, bad = seed.product(org, price="20.00"), seed.product(org, name="Rikki", price="NaN")
    fine, broken = seed.task(org, completed_at="2025-03-01 12:00:00"), seed.task(org, completed_at="2025-03-01")
    seed.task_product(fine, good, "2")
    seed.task_product(broken, good, "NaN")

    products = {p.id: p for p in repository.products(org)}
    tasks = {t.id: t for t in repository.tasks_awaiting_invoice(org)}

    assert products[good].unit_price == Decimal("20.00")
    assert str(products[bad].unit_price) == "NaN"  # Decimal('NaN') from PostgreSQL, unreadable text on SQLite
    assert tasks[fine].products[0].quantity == Decimal("2.000")
    assert str(tasks[broken].products[0].quantity) == "NaN"


@pytest.mark.parametrize("empty_engine", ["sqlite"], indirect=True)  # PostgreSQL refuses text in such columns
def test_text_in_a_number_or_time_column_marks_only_its_own_row_unreadable_on_sqlite(
    seed: Seed, repository: SqlSpotillaRepository
) -> None:
    org = seed.organization()
    good, bad = seed.product(org, price="20.00"), seed.product(org, price="ilmainen", vat="paljon")
    fine = seed.task(org, completed_at="2025-03-01 12:00:00")
    late = seed.task(org, completed_at="eilen illalla")
    seed.task_product(fine, good, "2")
    seed.task_product(late, good, "kolme")
    ok_customer = seed.customer(org, name="Hyvä Oy", payment_term_days=14)
    odd_customer = seed.customer(org, name="Outo Oy", payment_term_days="pian")

    products = {p.id: p for p in repository.products(org)}
    tasks = {t.id: t for t in repository.tasks_awaiting_invoice(org)}
    customers = {c.id: c for c in repository.customers(org)}

    assert products[good].unit_price == Decimal("20.00")
    assert (products[bad].unit_price, products[bad].vat_percent) == (Unreadable("ilmainen"), Unreadable("paljon"))
    assert tasks[fine].completed_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert tasks[fine].products[0].quantity == Decimal("2.000")
    assert tasks[late].completed_at == Unreadable("eilen illalla")
    assert tasks[late].products[0].quantity == Unreadable("kolme")
    assert customers[ok_customer].payment_term_days == 14
    assert customers[odd_customer].payment_term_days == Unreadable("pian")


def test_a_completed_task_without_a_completion_time_is_read(seed: Seed, repository: SqlSpotillaRepository) -> None:
    org = seed.organization()
    task = seed.task(org)

    [read] = repository.tasks_awaiting_invoice(org)

    assert (read.id, read.completed_at) == (task, None)

"""Demo data lands in Spotilla's tables as an outside tool would write it: plain SQL, realistic, reproducible."""

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import DateTime, Engine, Numeric, create_engine, text
from stdnum.fi import ytunnus

from dbutil import create_spotilla_tables, postgres_engine
from spotilla_procountor.app.demo_data import DemoSize, business_id_check_digit, generate_demo_data

NOW = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
SIZE = DemoSize(customers=200, products=20, tasks=300, max_products_per_task=4, bad_customer_share=0.1)
TYPED = {
    "unit_price": Numeric(12, 2),
    "vat_percent": Numeric(5, 2),
    "quantity": Numeric(12, 3),
    "created_at": DateTime(),
    "updated_at": DateTime(),
    "completed_at": DateTime(),
}


@pytest.fixture
def _sqlite_databases(tmp_path) -> Iterator[Callable[[], Engine]]:
    engines: list[Engine] = []

    def new() -> Engine:
        engines.append(create_engine(f"sqlite:///{tmp_path / f'spotilla-{len(engines)}.db'}"))
        return create_spotilla_tables(engines[-1])

    yield new
    for engine in engines:
        engine.dispose()


@pytest.fixture
def _postgres_databases() -> Iterator[Callable[[], Engine]]:
    with ExitStack() as schemas:

        def new() -> Engine:
            return create_spotilla_tables(schemas.enter_context(postgres_engine()))

        yield new


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_database(request) -> Callable[[], Engine]:
    """Makes an empty database holding Spotilla's five tables, on each backend."""
    return request.getfixturevalue({"sqlite": "_sqlite_databases", "postgresql": "_postgres_databases"}[request.param])


@pytest.fixture
def database(new_database) -> Engine:
    return new_database()


def _rows(engine: Engine, sql: str, **params: object) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(text(sql).columns(**TYPED), params).mappings()]


def _all_rows(engine: Engine) -> dict[str, list[dict]]:
    tables = ("organizations", "customers", "products", "tasks", "task_products")
    return {table: _rows(engine, f"SELECT * FROM {table} ORDER BY id") for table in tables}


def _business_id_kind(value: str | None) -> str:
    if value is None:
        return "missing"
    if not value.strip():
        return "blank"
    if not re.fullmatch(r"\d{7}-\d", value):
        return "malformed"
    return "valid" if ytunnus.is_valid(value) else "check_digit"


def test_inserts_the_requested_numbers_of_customers_products_and_tasks(database):
    summary = generate_demo_data(database, organization_id=7, size=SIZE, seed=1, now=NOW)

    assert (summary.customers, summary.products, summary.tasks) == (200, 20, 300)
    assert len(set(summary.customer_ids)) == 200
    assert len(set(summary.task_ids)) == 300
    counts = {t: _rows(database, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("customers", "products", "tasks")}
    assert counts == {"customers": 200, "products": 20, "tasks": 300}
    assert _rows(database, "SELECT name FROM organizations WHERE id = 7") == [{"name": "Demo Huolto Oy"}]
    task_products = _rows(database, "SELECT task_id, count(*) AS n FROM task_products GROUP BY task_id")
    assert {row["task_id"] for row in task_products} == set(summary.task_ids)
    assert all(1 <= row["n"] <= 4 for row in task_products)


def test_every_status_appears_and_most_tasks_are_completed(database):
    summary = generate_demo_data(database, organization_id=1, size=SIZE, seed=2, now=NOW)

    statuses = Counter(row["status"] for row in _rows(database, "SELECT status FROM tasks"))
    assert set(statuses) == {"OPEN", "IN_PROGRESS", "COMPLETED", "CANCELLED"}
    assert statuses.most_common(1)[0][0] == "COMPLETED"
    assert summary.tasks_completed == statuses["COMPLETED"]


def test_a_tenth_of_customers_have_an_unusable_business_id_or_no_name_of_every_kind(database):
    generate_demo_data(database, organization_id=1, size=SIZE, seed=3, now=NOW)

    customers = _rows(database, "SELECT name, business_id FROM customers")
    kinds = Counter(_business_id_kind(row["business_id"]) for row in customers)
    nameless = [row for row in customers if not (row["name"] or "").strip()]
    assert {"missing", "blank", "malformed", "check_digit"} <= set(kinds)
    assert nameless
    assert kinds == {"valid": 184, "missing": 4, "blank": 4, "malformed": 4, "check_digit": 4}
    assert len(nameless) == 4
    assert all(_business_id_kind(row["business_id"]) == "valid" for row in nameless)


def test_customers_look_finnish_with_fi_emails_phones_and_einvoice_addresses(database):
    generate_demo_data(database, organization_id=1, size=SIZE, seed=4, now=NOW)

    customers = _rows(database, "SELECT * FROM customers")
    assert all(row["country"] == "FI" and row["email"].endswith(".fi") for row in customers)
    assert all(row["email"].isascii() and row["phone"].startswith("+358") for row in customers)
    assert all(re.fullmatch(r"\d{5}", row["postal_code"]) for row in customers)
    named = [row["name"] for row in customers if row["name"] and row["name"].strip()]
    assert all(name.rsplit(" ", 1)[-1] in {"Oy", "Ab", "Ky", "Oyj"} for name in named)
    einvoiced = [row for row in customers if row["einvoice_address"]]
    assert einvoiced
    assert any(row["billing_email"] for row in customers)
    for row in einvoiced:
        assert row["einvoice_address"].startswith("0037" + row["business_id"].replace("-", ""))
        assert row["einvoice_operator"] in {"003721291126", "E204503", "003703575029"}
    assert {row["payment_term_days"] for row in customers} == {None, 7, 14, 21, 30}


def test_product_codes_and_business_ids_are_unique_within_an_organization_across_repeated_runs(database):
    generate_demo_data(database, organization_id=1, size=SIZE, seed=5, now=NOW)
    generate_demo_data(database, organization_id=1, size=SIZE, seed=5, now=NOW)

    codes = [row["code"] for row in _rows(database, "SELECT code FROM products WHERE organization_id = 1")]
    ids = [row["business_id"] for row in _rows(database, "SELECT business_id FROM customers WHERE organization_id = 1")]
    valid_ids = [value for value in ids if _business_id_kind(value) == "valid"]
    assert len(codes) == 40 and len(set(codes)) == 40
    assert all(re.fullmatch(r"P-\d{4}", code) for code in codes)
    assert len(valid_ids) == len(set(valid_ids))


def test_two_organizations_coexist_and_tasks_point_at_their_own_customers(database):
    first = generate_demo_data(database, organization_id=1, size=SIZE, seed=6, now=NOW)
    second = generate_demo_data(database, organization_id=2, organization_name="Toinen Huolto Oy", size=SIZE, seed=6)

    assert not set(first.customer_ids) & set(second.customer_ids)
    assert not set(first.task_ids) & set(second.task_ids)
    mismatched = _rows(
        database,
        "SELECT t.id FROM tasks t JOIN customers c ON c.id = t.customer_id "
        "WHERE c.organization_id <> t.organization_id",
    )
    assert mismatched == []
    foreign_products = _rows(
        database,
        "SELECT tp.id FROM task_products tp JOIN tasks t ON t.id = tp.task_id "
        "JOIN products p ON p.id = tp.product_id WHERE p.organization_id <> t.organization_id",
    )
    assert foreign_products == []
    names = {row["id"]: row["name"] for row in _rows(database, "SELECT * FROM organizations")}
    assert names == {1: "Demo Huolto Oy", 2: "Toinen Huolto Oy"}


def test_the_same_seed_and_clock_give_identical_rows(new_database):
    first, second = new_database(), new_database()
    generate_demo_data(first, organization_id=3, size=SIZE, seed=42, now=NOW)
    generate_demo_data(second, organization_id=3, size=SIZE, seed=42, now=NOW)

    assert _all_rows(first) == _all_rows(second)


def test_prices_have_two_decimals_and_quantities_are_positive_with_three(database):
    generate_demo_data(database, organization_id=1, size=SIZE, seed=7, now=NOW)

    products = _rows(database, "SELECT unit, unit_price, vat_percent FROM products")
    assert all(
        isinstance(row["unit_price"], Decimal) and row["unit_price"].as_tuple().exponent == -2 for row in products
    )
    assert {row["vat_percent"] for row in products} <= {Decimal("25.5"), Decimal("14"), Decimal("10"), Decimal("0")}
    assert Counter(row["vat_percent"] for row in products).most_common(1)[0][0] == Decimal("25.5")
    assert {row["unit"] for row in products} == {"h", "pcs", "km", "m", "kg", "l"}
    quantities = [row["quantity"] for row in _rows(database, "SELECT quantity FROM task_products")]
    assert all(isinstance(q, Decimal) and q > 0 and q.as_tuple().exponent == -3 for q in quantities)


def test_only_completed_tasks_have_a_completion_time_within_the_last_thirty_days(database):
    generate_demo_data(database, organization_id=1, size=SIZE, seed=8, now=NOW)

    tasks = _rows(database, "SELECT status, completed_at, created_at, updated_at FROM tasks")
    naive_now = NOW.replace(tzinfo=None)
    completed = [row["completed_at"] for row in tasks if row["status"] == "COMPLETED"]
    assert all(naive_now - timedelta(days=30) <= at <= naive_now for at in completed)
    assert all(row["completed_at"] is None for row in tasks if row["status"] != "COMPLETED")
    assert all(row["created_at"] <= row["updated_at"] <= naive_now for row in tasks)
    helsinki = ZoneInfo("Europe/Helsinki")
    assert any(at.replace(tzinfo=UTC).astimezone(helsinki).date() != at.date() for at in completed)


def test_order_numbers_and_customers_are_sometimes_missing(database):
    generate_demo_data(database, organization_id=1, size=SIZE, seed=9, now=NOW)

    tasks = _rows(database, "SELECT customer_id, order_number FROM tasks")
    order_numbers = [row["order_number"] for row in tasks]
    assert any(number is None for number in order_numbers)
    assert "" in order_numbers
    assert any(number and re.fullmatch(r"PO-2026-\d{4}", number) for number in order_numbers)
    assert any(row["customer_id"] is None for row in tasks)
    assert sum(row["customer_id"] is not None for row in tasks) > len(tasks) * 0.8


def test_an_existing_organization_keeps_its_name_and_a_caller_transaction_is_used(database):
    with database.begin() as conn:
        conn.execute(text("INSERT INTO organizations (id, name) VALUES (5, 'Oma Yritys Oy')"))
    with database.connect() as conn, conn.begin() as callers_transaction:
        generate_demo_data(conn, organization_id=5, size=DemoSize(customers=5, products=3, tasks=5), now=NOW)
        callers_transaction.rollback()

    assert _rows(database, "SELECT name FROM organizations") == [{"name": "Oma Yritys Oy"}]
    assert _rows(database, "SELECT count(*) AS n FROM tasks") == [{"n": 0}]


def test_the_business_id_check_digit_agrees_with_the_official_rule():
    for number in range(1_234_000, 1_234_400):
        digits = f"{number:07d}"
        check = business_id_check_digit(digits)
        valid = [d for d in range(10) if ytunnus.is_valid(f"{digits}-{d}")]
        assert valid == ([] if check is None else [check])


def test_a_clock_without_a_time_zone_is_refused(database):
    with pytest.raises(ValueError, match="naive"):
        generate_demo_data(database, organization_id=1, now=datetime(2026, 3, 15, 10, 30))

"""The migrations build the schema the models describe, and leave a production Spotilla database's tables alone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect, text

from dbutil import create_spotilla_tables, run_sql_script
from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.migrate import (
    VERSION_TABLE,
    alembic_config,
    target_metadata,
    upgrade_database,
)
from spotilla_procountor.adapters.spotilla_sql.models import SPOTILLA_TABLES
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.domain.model import CustomerFields

INTEGRATION_TABLES = {
    "procountor_settings",
    "procountor_links",
    "procountor_transfers",
    "procountor_partner_mirror",
    "procountor_watermarks",
    "procountor_runs",
    "procountor_run_events",
    "procountor_locks",
}


def schema_differences(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        return compare_metadata(context, metadata)


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert schema_differences(engine, target_metadata()) == []
    assert set(inspect(engine).get_table_names()) == {*SPOTILLA_TABLES, *INTEGRATION_TABLES, VERSION_TABLE}


def test_the_comparison_notices_a_drifted_schema(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_procountor_partner_mirror_organization_id_business_id"))

    assert schema_differences(engine, target_metadata()) != []


def test_upgrading_twice_changes_nothing(engine: Engine) -> None:
    upgrade_database(engine)

    assert schema_differences(engine, target_metadata()) == []
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all() == ["0001"]


def test_a_database_can_be_upgraded_by_its_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'by-url.sqlite3'}"

    upgrade_database(url)

    engine = make_engine(url)
    assert schema_differences(engine, target_metadata()) == []
    engine.dispose()


# A production database: Spotilla's own `alembic_version`, the contract's tables with a column of Spotilla's
# that the integration does not know, and some rows.
SPOTILLA_OWN_ALEMBIC = """
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('spotilla_42');
"""
SPOTILLA_ROWS = """
INSERT INTO organizations (name) VALUES ('Putkiliike Virtanen Oy');
INSERT INTO customers (organization_id, name, created_at, updated_at, loyalty_level)
    VALUES (1, 'Asunto Oy Kuusikko', '2024-05-01 08:00:00', '2024-05-01 08:00:00', 'gold');
INSERT INTO products (organization_id, name, unit, unit_price, vat_percent, created_at, updated_at)
    VALUES (1, 'Asennustyö', 'h', 65.00, 25.5, '2024-05-01 08:00:00', '2024-05-01 08:00:00');
INSERT INTO tasks (organization_id, customer_id, title, status, completed_at, created_at, updated_at)
    VALUES (1, 1, 'Vesivuoto', 'COMPLETED', '2024-05-02 14:30:00', '2024-05-01 08:00:00', '2024-05-02 14:30:00');
INSERT INTO task_products (task_id, product_id, quantity) VALUES (1, 1, 2.5);
"""


def _columns(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    inspector = inspect(engine)
    return {
        t: [(c["name"], str(c["type"]), c["nullable"], c["default"]) for c in inspector.get_columns(t)]
        for t in SPOTILLA_TABLES
    }


def _rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in SPOTILLA_TABLES}


def test_upgrading_a_database_that_has_spotillas_tables_keeps_them_and_their_rows(empty_engine: Engine) -> None:
    run_sql_script(empty_engine, SPOTILLA_OWN_ALEMBIC)
    create_spotilla_tables(empty_engine, customer_extra=", loyalty_level TEXT")
    run_sql_script(empty_engine, SPOTILLA_ROWS)
    columns_before = _columns(empty_engine)
    rows_before = _rows(empty_engine)

    upgrade_database(empty_engine)
    upgrade_database(empty_engine)

    inspector = inspect(empty_engine)
    assert _columns(empty_engine) == columns_before
    assert _rows(empty_engine) == rows_before
    assert set(inspector.get_table_names()) >= INTEGRATION_TABLES
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "spotilla_42"
    repository = SqlSpotillaRepository(empty_engine)
    [task] = repository.tasks_awaiting_invoice(1)
    assert task.completed_at == datetime(2024, 5, 2, 14, 30, tzinfo=UTC)
    assert task.products[0].quantity == Decimal("2.500")
    added = repository.add_customer(1, CustomerFields("Uusi Oy", "7654321-0", *[None] * 9))
    assert [c.name for c in repository.customers(1)] == ["Asunto Oy Kuusikko", "Uusi Oy"]
    assert added == 2


def test_a_downgrade_drops_only_the_integrations_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")

    assert set(inspect(engine).get_table_names()) == {*SPOTILLA_TABLES, VERSION_TABLE}


def test_connections_are_set_up_for_their_database(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        else:
            assert conn.exec_driver_sql("SHOW timezone").scalar() == "UTC"

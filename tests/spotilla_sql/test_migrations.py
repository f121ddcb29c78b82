"""The migrations build the schema the models describe, and leave a production Spotilla database's tables alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

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
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.domain.keys import invoice_key
from spotilla_procountor.domain.model import CustomerFields
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Record, RecordState

INTEGRATION_TABLES = {
    "procountor_settings",
    "procountor_records",
    "procountor_fences",
    "procountor_records_archive",
    "procountor_partner_mirror",
    "procountor_watermarks",
    "procountor_runs",
    "procountor_run_events",
    "procountor_locks",
    "procountor_alerts",
    "procountor_run_streaks",
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
        assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all() == ["0005"]


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


# Revision 0001's two state tables, as a version before 0002 left them (plain SQL, as an outside tool would see).
ORG = 7
NO_ORDER_NUMBER = "The task has no order number…"
OLD_LINKS = [
    {
        "organization_id": ORG,
        "kind": "PRODUCT",
        "spotilla_id": 1,
        "procountor_id": 501,
        "state": "LINKED",
        "fingerprint": "fp-product",
        "reason": None,
        "updated_at": "2025-03-01 10:00:00",
    },
    {
        "organization_id": ORG,
        "kind": "CUSTOMER",
        "spotilla_id": 2,
        "procountor_id": None,
        "state": "HELD_BACK",
        "fingerprint": "fp-customer",
        "reason": "Asiakkaalta puuttuu Y-tunnus; lisää se Spotillaan.",
        "updated_at": "2025-03-01 10:00:01",
    },
]
OLD_TRANSFERS = [
    {
        "organization_id": ORG,
        "task_id": 11,
        "key": invoice_key(ORG, 11),
        "state": "CREATED",
        "invoice_id": 4_000_000_123,
        "reasons": "[]",
        "fingerprint": "fp-11",
        "attempts": 2,
        "updated_at": "2025-03-01 10:00:02",
    },
    {
        "organization_id": ORG,
        "task_id": 12,
        "key": invoice_key(ORG, 12),
        "state": "HELD_BACK",
        "invoice_id": None,
        "reasons": json.dumps([f"NO_ORDER_NUMBER: {NO_ORDER_NUMBER}"], ensure_ascii=False),
        "fingerprint": "fp-12",
        "attempts": 1,
        "updated_at": "2025-03-01 10:00:03",
    },
]


def _insert(engine: Engine, table: str, rows: list[dict[str, Any]]) -> None:
    names = ", ".join(rows[0])
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in rows[0])})"), rows)


def _old_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            table: [dict(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2, 3")).mappings()]
            for table in ("procountor_links", "procountor_transfers")
        }


def _at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def _upgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def _downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def test_links_and_transfers_become_records_and_come_back_on_a_downgrade(empty_engine: Engine) -> None:
    _upgrade(empty_engine, "0001")
    _insert(empty_engine, "procountor_links", OLD_LINKS)
    _insert(empty_engine, "procountor_transfers", OLD_TRANSFERS)
    before = _old_rows(empty_engine)

    _upgrade(empty_engine, "head")

    store = SqlStateStore(empty_engine)
    product, customer = OLD_LINKS
    linked, held = OLD_TRANSFERS
    assert store.records(ORG, EntityKind.PRODUCT) == {
        1: Record(
            ORG,
            EntityKind.PRODUCT,
            1,
            RecordState.LINKED,
            procountor_id=501,
            fingerprint="fp-product",
            updated_at=_at(product["updated_at"]),
            state_since=_at(product["updated_at"]),
        )
    }
    assert store.records(ORG, EntityKind.CUSTOMER) == {
        2: Record(
            ORG,
            EntityKind.CUSTOMER,
            2,
            RecordState.HELD_BACK,
            reasons=(Reason.stored(ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR, customer["reason"]),),
            fingerprint="fp-customer",
            updated_at=_at(customer["updated_at"]),
            state_since=_at(customer["updated_at"]),
        )
    }
    tasks = store.records(ORG, EntityKind.TASK)
    assert tasks == {
        11: Record(
            ORG,
            EntityKind.TASK,
            11,
            RecordState.LINKED,
            procountor_id=4_000_000_123,
            fingerprint="fp-11",
            attempts=2,
            updated_at=_at(linked["updated_at"]),
            state_since=_at(linked["updated_at"]),
        ),
        12: Record(
            ORG,
            EntityKind.TASK,
            12,
            RecordState.HELD_BACK,
            reasons=(Reason.stored(ReasonCode.NO_ORDER_NUMBER, NO_ORDER_NUMBER),),
            fingerprint="fp-12",
            attempts=1,
            updated_at=_at(held["updated_at"]),
            state_since=_at(held["updated_at"]),
        ),
    }
    assert all(r.claim_epoch is None and r.claimed_at is None for r in tasks.values())  # no claim before 0002
    assert [str(r) for r in tasks[12].reasons] == [f"NO_ORDER_NUMBER: {NO_ORDER_NUMBER}"]  # code and words as stored
    assert store.records(ORG, EntityKind.CUSTOMER)[2].reason_text == customer["reason"]
    assert set(inspect(empty_engine).get_table_names()).isdisjoint({"procountor_links", "procountor_transfers"})

    fence = store.acquire_run_lock(ORG, "host-a:1:1", ttl_s=60)  # the fences table is there, and starts at 1
    assert fence is not None and fence.epoch == 1
    store.release_run_lock(ORG, "host-a:1:1")

    _downgrade(empty_engine, "0001")

    assert _old_rows(empty_engine) == before
    assert set(inspect(empty_engine).get_table_names()).isdisjoint({"procountor_records", "procountor_fences"})


def test_an_old_reason_without_a_code_this_version_knows_is_kept_whole(empty_engine: Engine) -> None:
    _upgrade(empty_engine, "0001")
    old = ["OLD_CODE: Vanha syy, jota ei enää ole.", "Tilaus: numero puuttuu", "Ei koodia lainkaan"]
    _insert(empty_engine, "procountor_transfers", [{**OLD_TRANSFERS[1], "reasons": json.dumps(old)}])

    _upgrade(empty_engine, "head")

    [held] = SqlStateStore(empty_engine).records(ORG, EntityKind.TASK).values()  # readable, not a RepositoryError
    assert held.reasons == tuple(Reason.stored(ReasonCode.FIELD_INVALID, text) for text in old)

"""Switching a tenant on: its bank account, its Procountor company, its start day, and re-queueing refused items.

The tenant service on SQLite against the fake Procountor in-process; tests/reliability/test_tenant_settings.py runs
the same rules as real processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.credentials import ApiClient, CredentialCipher, new_key, service_client
from spotilla_procountor.app.gateways import GatewayFactory
from spotilla_procountor.app.service import SanityLimits, TenantRefused, TenantService, compact_iban
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.model import IntegrationSettings
from spotilla_procountor.domain.state import EntityKind, Record, RecordState

IBAN = "FI4950009420028730"
SERVICE_CLIENT = ApiClient("demo-client", "demo-secret")  # the fake's published demo client and key
DEMO = "demo-api-key"
TODAY = date(2026, 12, 2)


@pytest.fixture
def fake() -> FakeProcountor:
    return FakeProcountor(company_name="Testiyritys Oy")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    upgrade_database(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO organizations (id, name) VALUES (1, 'Yksi Oy'), (2, 'Kaksi Oy')")
    yield engine
    engine.dispose()


@pytest.fixture
def state(engine: Engine) -> SqlStateStore:
    return SqlStateStore(engine)


@pytest.fixture
def tenants(state: SqlStateStore, fake: FakeProcountor) -> TenantService:
    settings = Settings(
        secret_key=new_key(),
        client_id=SERVICE_CLIENT.client_id,
        client_secret=SERVICE_CLIENT.client_secret,
        _env_file=None,
    )
    gateways = GatewayFactory(settings=settings, transport=fake.transport())
    return TenantService(
        state=state,
        cipher=CredentialCipher(settings),
        gateways=gateways,
        service_client=service_client(settings),
        today=lambda: TODAY,
    )


def _refused_task(state: SqlStateStore, task_id: int = 501) -> None:
    state.save_record(Record(1, EntityKind.TASK, task_id, RecordState.FAILED, fingerprint="seen-data"))


def _fingerprint(state: SqlStateStore, task_id: int = 501) -> str | None:
    return state.records(1, EntityKind.TASK, [task_id])[task_id].fingerprint


@pytest.mark.parametrize("given", ["FI49 5000 9420 0287 30", " fi4950009420028730 ", IBAN])
def test_an_iban_is_stored_without_spaces(given: str) -> None:
    assert compact_iban(given) == IBAN


@pytest.mark.parametrize("given", [None, "", "   ", "NOT-AN-IBAN", "FI4950009420028731", "FI49500094200287"])
def test_a_missing_or_wrong_iban_is_refused_with_a_sentence(given: str | None) -> None:
    with pytest.raises(TenantRefused, match="IBAN"):
        compact_iban(given)


def test_switching_on_learns_the_company_and_starts_today(tenants: TenantService, fake: FakeProcountor) -> None:
    config = tenants.enable(1, DEMO, bank_account=IBAN)
    assert (config.company_id, config.company_name) == (fake.company["id"], "Testiyritys Oy")
    assert config.company_business_id == fake.company["businessId"]
    assert config.tasks_completed_from == TODAY
    assert tenants.config(1).company_id == fake.company["id"]


def test_switching_on_again_keeps_the_start_day_unless_a_new_one_is_given(tenants: TenantService) -> None:
    tenants.enable(1, DEMO, bank_account=IBAN, tasks_completed_from=date(2025, 1, 1))
    assert tenants.enable(1, DEMO, bank_account=IBAN).tasks_completed_from == date(2025, 1, 1)
    assert tenants.enable(1, DEMO, bank_account=IBAN, tasks_completed_from=TODAY).tasks_completed_from == TODAY


def test_a_tenant_from_before_start_days_keeps_having_none(tenants: TenantService, state: SqlStateStore) -> None:
    config = tenants.enable(1, DEMO, bank_account=IBAN)
    state.save_settings(replace(config, tasks_completed_from=None))  # as migration 0003 leaves an older tenant
    assert tenants.enable(1, DEMO, bank_account=IBAN).tasks_completed_from is None


def test_a_change_of_settings_requeues_refused_items_and_the_same_settings_do_not(
    tenants: TenantService, state: SqlStateStore
) -> None:
    tenants.enable(1, DEMO, bank_account=IBAN)
    _refused_task(state)
    tenants.enable(1, DEMO, bank_account="FI49 5000 9420 0287 30")  # the same account, written with spaces
    assert _fingerprint(state) == "seen-data"
    tenants.enable(1, DEMO, bank_account="FI2112345600000785")
    assert _fingerprint(state) is None


def test_retry_forgets_only_what_was_asked(tenants: TenantService, state: SqlStateStore) -> None:
    tenants.enable(1, DEMO, bank_account=IBAN)
    _refused_task(state, 501)
    _refused_task(state, 502)
    state.save_record(Record(1, EntityKind.TASK, 503, RecordState.LINKED, procountor_id=9, fingerprint="done"))
    assert tenants.retry(1, EntityKind.TASK, [501, 503]) == 1
    assert (_fingerprint(state, 501), _fingerprint(state, 502), _fingerprint(state, 503)) == (None, "seen-data", "done")
    assert tenants.retry(1) == 1


def test_without_asking_procountor_the_binding_stays_as_it_was(tenants: TenantService, fake: FakeProcountor) -> None:
    tenants.enable(1, DEMO, bank_account=IBAN)
    assert tenants.enable(1, DEMO, bank_account=IBAN, verify=False).company_id == fake.company["id"]


def test_a_second_organization_on_the_same_company_is_refused(tenants: TenantService, state: SqlStateStore) -> None:
    tenants.enable(1, DEMO, bank_account=IBAN)
    with pytest.raises(TenantRefused, match="already serves organization 1"):
        tenants.enable(2, DEMO, bank_account=IBAN)
    assert state.settings_row(2) is None


def test_a_company_switch_is_refused_while_a_run_of_the_tenant_is_under_way(
    tenants: TenantService, state: SqlStateStore, fake: FakeProcountor
) -> None:
    tenants.enable(1, DEMO, bank_account=IBAN)
    _refused_task(state)
    fake.company["id"] += 1  # the same credentials now log in to another company
    with state.run_lock(1, "a-running-sync") as fence:
        assert fence is not None
        with pytest.raises(TenantRefused, match="under way"):
            tenants.enable(1, DEMO, bank_account=IBAN, switch_company=True)
    assert state.records(1, EntityKind.TASK)  # nothing was archived
    tenants.enable(1, DEMO, bank_account=IBAN, switch_company=True)
    assert state.records(1, EntityKind.TASK) == {}
    assert tenants.config(1).company_id == fake.company["id"] and tenants.config(1).enabled


def test_sanity_limits_are_the_tenants_own_kept_on_reenable_and_read_by_the_runs(
    tenants: TenantService, engine: Engine
) -> None:
    limits = SanityLimits(Decimal("50"), Decimal("2500.00"), 30)
    tenants.enable(1, DEMO, bank_account=IBAN, limits=limits)
    tenants.enable(1, DEMO, bank_account=IBAN)  # changing something else keeps them
    read = SqlSpotillaRepository(engine).settings(1)
    assert read is not None
    assert (read.quantity_ceiling, read.invoice_total_ceiling, read.completion_clock_skew_minutes) == (
        Decimal("50"),
        Decimal("2500.00"),
        30,
    )


def test_without_limits_of_its_own_a_tenant_gets_the_defaults(tenants: TenantService, engine: Engine) -> None:
    tenants.enable(1, DEMO, bank_account=IBAN)
    read = SqlSpotillaRepository(engine).settings(1)
    defaults = IntegrationSettings(1)
    assert read is not None
    assert (read.quantity_ceiling, read.invoice_total_ceiling, read.completion_clock_skew_minutes) == (
        defaults.quantity_ceiling,
        defaults.invoice_total_ceiling,
        defaults.completion_clock_skew_minutes,
    )

"""The integration's own memory: links, transfer records, partner mirror, watermark, run log, settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.domain.errors import RepositoryError
from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.state import (
    EntityKind,
    Event,
    Link,
    LinkState,
    Outcome,
    PartnerMirrorEntry,
    RunStatus,
    TransferRecord,
    TransferState,
)

from .conftest import SteppingClock
from .seed import Seed

ORG = 7


def link(
    spotilla_id: int,
    procountor_id: int | None,
    kind: EntityKind = EntityKind.PRODUCT,
    state: LinkState = LinkState.LINKED,
    fingerprint: str | None = None,
    reason: str | None = None,
) -> Link:
    return Link(ORG, kind, spotilla_id, procountor_id, state, fingerprint, reason)


def test_links_round_trip_by_kind_and_spotilla_id(store: SqlStateStore) -> None:
    product = link(1, 501, fingerprint="abc")
    customer = link(1, 9001, EntityKind.CUSTOMER, state=LinkState.PENDING, reason="outcome unknown")
    store.save_link(product)
    store.save_link(customer)

    assert store.links(ORG, EntityKind.PRODUCT) == {1: product}
    assert store.links(ORG, EntityKind.CUSTOMER) == {1: customer}
    assert store.links(ORG + 1, EntityKind.PRODUCT) == {}


def test_saving_a_link_again_replaces_it(store: SqlStateStore) -> None:
    store.save_link(link(1, None, state=LinkState.PENDING))
    store.save_link(link(1, 501, fingerprint="v2"))

    assert store.links(ORG, EntityKind.PRODUCT) == {1: link(1, 501, fingerprint="v2")}


def test_a_procountor_id_cannot_be_linked_to_two_spotilla_objects(store: SqlStateStore) -> None:
    store.save_link(link(1, 501))

    with pytest.raises(RepositoryError, match="saving a link"):
        store.save_link(link(2, 501))

    store.save_link(link(2, 501, EntityKind.CUSTOMER))  # another kind is another id space
    assert store.links(ORG, EntityKind.PRODUCT) == {1: link(1, 501)}


def test_many_links_may_wait_for_a_procountor_id(store: SqlStateStore) -> None:
    for spotilla_id in (1, 2, 3):
        store.save_link(link(spotilla_id, None, state=LinkState.PENDING))

    assert len(store.links(ORG, EntityKind.PRODUCT)) == 3


def test_links_are_unique_in_both_directions_in_the_table_itself(engine: Engine) -> None:
    insert = text(
        "INSERT INTO procountor_links (organization_id, kind, spotilla_id, procountor_id, state) "
        "VALUES (:org, 'PRODUCT', :sid, :pid, 'LINKED')"
    )
    with engine.begin() as conn:
        conn.execute(insert, {"org": ORG, "sid": 1, "pid": 501})
    for duplicate in ({"org": ORG, "sid": 1, "pid": 502}, {"org": ORG, "sid": 2, "pid": 501}):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, duplicate)


def test_transfer_records_round_trip_with_their_reasons(store: SqlStateStore, clock: SteppingClock) -> None:
    held = TransferRecord(
        ORG,
        task_id=11,
        key="SP-7-11",
        state=TransferState.HELD_BACK,
        reasons=("CUSTOMER_NO_BUSINESS_ID: Asiakkaalta puuttuu Y-tunnus.", "NO_PRODUCTS: Tehtävällä ei ole tuotteita."),
        fingerprint="f1",
        attempts=1,
    )
    created = TransferRecord(
        ORG, 12, "SP-7-12", TransferState.CREATED, invoice_id=4_000_000_123, attempts=2, updated_at=clock.now()
    )
    store.save_transfer(held)
    store.save_transfer(created)

    assert store.transfers(ORG) == {
        11: replace(held, updated_at=clock.now()),
        12: created,
    }
    assert list(store.transfers(ORG, [12, 99])) == [12]
    assert store.transfers(ORG, []) == {}


def test_a_transfer_moves_through_its_states(store: SqlStateStore) -> None:
    for state in (TransferState.PENDING, TransferState.SENT, TransferState.CREATED):
        store.save_transfer(TransferRecord(ORG, 11, "SP-7-11", state, invoice_id=5 if state == "CREATED" else None))

    assert store.transfers(ORG)[11].state is TransferState.CREATED
    assert store.transfers(ORG)[11].invoice_id == 5


def test_an_external_key_belongs_to_one_task_only(store: SqlStateStore) -> None:
    store.save_transfer(TransferRecord(ORG, 11, "SP-7-11", TransferState.SENT))

    with pytest.raises(RepositoryError):
        store.save_transfer(TransferRecord(ORG, 12, "SP-7-11", TransferState.SENT))


def test_writes_are_visible_to_another_connection_at_once(engine: Engine, store: SqlStateStore) -> None:
    store.save_transfer(TransferRecord(ORG, 11, "SP-7-11", TransferState.SENT))
    other_engine = make_engine(engine.url)
    try:
        assert SqlStateStore(other_engine).transfers(ORG)[11].state is TransferState.SENT
    finally:
        other_engine.dispose()


def test_the_partner_mirror_remembers_the_latest_of_each_partner(store: SqlStateStore) -> None:
    v1, v2 = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, 8, 15, tzinfo=UTC)
    store.remember_partners(ORG, [PartnerMirrorEntry(1, "1234567-8", v1), PartnerMirrorEntry(2, None, None)])
    store.remember_partners(ORG, [PartnerMirrorEntry(1, "7654321-0", v1), PartnerMirrorEntry(1, "1111111-1", v2)])
    store.remember_partners(ORG, [])

    assert store.partner_mirror(ORG) == {
        1: PartnerMirrorEntry(1, "1111111-1", v2),
        2: PartnerMirrorEntry(2, None, None),
    }


def test_the_partner_watermark_is_kept_per_tenant(store: SqlStateStore) -> None:
    assert store.partner_watermark(ORG) is None

    store.set_partner_watermark(ORG, datetime(2025, 1, 1, 12, tzinfo=UTC))
    store.set_partner_watermark(ORG, datetime(2025, 1, 2, 14, 0, 0, 123456, tzinfo=UTC))

    assert store.partner_watermark(ORG) == datetime(2025, 1, 2, 14, 0, 0, 123456, tzinfo=UTC)
    assert store.partner_watermark(ORG + 1) is None


def test_a_naive_timestamp_is_refused(store: SqlStateStore) -> None:
    with pytest.raises(RepositoryError, match="naive"):
        store.set_partner_watermark(ORG, datetime(2025, 1, 1, 12))


def test_the_run_log_keeps_runs_newest_first_with_counts_and_events(store: SqlStateStore, clock: SteppingClock) -> None:
    first = store.start_run(ORG)
    started = clock.now()
    clock.advance(60)
    store.finish_run(first, RunStatus.FAILED, {}, error="Procountor rejected the credentials")
    second = store.start_run(ORG, dry_run=True)
    event = Event(
        "invoices", EntityKind.TASK, 11, Outcome.HELD_BACK, reason_code="NO_PRODUCTS", message="Ei tuotteita."
    )
    store.record_event(second, event)
    store.record_event(second, Event("products", EntityKind.PRODUCT, 3, Outcome.WOULD_CREATE))

    runs = store.runs(ORG)

    assert [(r.id, r.status, r.dry_run) for r in runs] == [
        (second, RunStatus.RUNNING, True),
        (first, RunStatus.FAILED, False),
    ]
    assert runs[1].started_at == started
    assert runs[1].finished_at == clock.now()
    assert runs[1].error == "Procountor rejected the credentials"
    assert store.run_events(second) == [event, Event("products", EntityKind.PRODUCT, 3, Outcome.WOULD_CREATE)]

    store.finish_run(second, RunStatus.SUCCEEDED, {"invoices_created": 0, "held_back": 1})
    assert store.runs(ORG, limit=1)[0].counts == {"invoices_created": 0, "held_back": 1}
    assert store.runs(ORG + 1) == []


def test_tenant_settings_are_saved_and_overwritten_keeping_their_creation_time(
    seed: Seed, store: SqlStateStore, clock: SteppingClock
) -> None:
    org = seed.organization()
    created = clock.now()
    store.save_settings(TenantConfig(org, client_id="cid", client_secret_enc="gAAAA-secret", api_key_enc="gAAAA-key"))
    clock.advance(3600)
    config = TenantConfig(
        organization_id=org,
        enabled=False,
        policy=TransferPolicy.WITH_ORDER_NUMBER,
        environment="production",
        client_id="cid-2",
        client_secret_enc="gAAAA-secret-2",
        api_key_enc="gAAAA-key-2",
        bank_account="FI49 5000 9420 0287 30",
        default_payment_term_days=21,
    )
    store.save_settings(config)

    assert store.settings_rows() == [replace(config, created_at=created, updated_at=clock.now())]
    assert store.settings_row(org) == store.settings_rows()[0]
    assert store.settings_row(org + 1) is None
    assert "gAAAA" not in repr(config)


def test_a_run_left_running_by_a_dead_process_is_closed_as_interrupted_when_the_next_starts(
    store: SqlStateStore,
) -> None:
    abandoned = store.start_run(7)  # its process was killed: never finished
    other_tenant = store.start_run(8)
    current = store.start_run(7)
    runs = {run.id: run for run in store.runs(7) + store.runs(8)}
    assert runs[abandoned].status == RunStatus.INTERRUPTED and runs[abandoned].finished_at is not None
    assert runs[current].status == RunStatus.RUNNING
    assert runs[other_tenant].status == RunStatus.RUNNING  # another tenant's run is none of its business


@pytest.fixture(params=["sql", "memory"])
def any_store(request: pytest.FixtureRequest, store: SqlStateStore):
    """The SQL store and the in-memory one, which must keep the same promise about `together()`."""
    from spotilla_procountor.adapters.memory import InMemoryStateStore

    return store if request.param == "sql" else InMemoryStateStore()


def test_writes_made_together_appear_together_when_the_block_ends(any_store) -> None:
    run_id = any_store.start_run(ORG)
    event = Event("products", EntityKind.PRODUCT, 1, Outcome.CREATED, 501)

    with any_store.together():
        any_store.save_link(link(1, 501))
        with any_store.together():  # a nested block joins the outer one
            any_store.remember_partners(ORG, [PartnerMirrorEntry(77, "0112038-9", None)])
        any_store.record_event(run_id, event)
        assert any_store.links(ORG, EntityKind.PRODUCT) == {}  # nothing before the end of the block
        assert any_store.partner_mirror(ORG) == {}

    assert any_store.links(ORG, EntityKind.PRODUCT) == {1: link(1, 501)}
    assert set(any_store.partner_mirror(ORG)) == {77}
    any_store.save_link(link(2, 502))  # outside a block, a write is done at once
    assert set(any_store.links(ORG, EntityKind.PRODUCT)) == {1, 2}


def test_a_block_that_raises_writes_nothing(any_store) -> None:
    with pytest.raises(ZeroDivisionError), any_store.together():
        any_store.save_link(link(1, 501))
        _ = 1 / 0  # a bug in the block is not mistaken for a database error

    assert any_store.links(ORG, EntityKind.PRODUCT) == {}


def test_a_write_the_database_refuses_undoes_the_whole_block(any_store) -> None:
    any_store.save_link(link(1, 501))

    with pytest.raises((RepositoryError, ValueError), match=r"saving a link|already linked"), any_store.together():
        any_store.save_transfer(TransferRecord(ORG, 11, "SP-7-11", TransferState.CREATED, invoice_id=9))
        any_store.save_link(link(2, 501))  # 501 is linked to product 1 already

    assert any_store.transfers(ORG) == {}
    assert any_store.links(ORG, EntityKind.PRODUCT) == {1: link(1, 501)}

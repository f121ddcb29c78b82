"""The integration's own memory: records, partner mirror, watermark, run log, settings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.domain.errors import RecordConflict, RepositoryError
from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import (
    IN_DOUBT,
    EntityKind,
    Event,
    Flow,
    Outcome,
    PartnerMirrorEntry,
    Record,
    RecordState,
    RunStatus,
)

from .conftest import SteppingClock
from .seed import Seed, count_statements

ORG = 7


def record(
    spotilla_id: int,
    procountor_id: int | None,
    kind: EntityKind = EntityKind.PRODUCT,
    state: RecordState = RecordState.LINKED,
    fingerprint: str | None = None,
    reasons: tuple[Reason, ...] = (),
) -> Record:
    return Record(ORG, kind, spotilla_id, state, procountor_id, reasons, fingerprint)


def task(task_id: int, state: RecordState, invoice_id: int | None = None, **fields: object) -> Record:
    return replace(Record(ORG, EntityKind.TASK, task_id, state, invoice_id), **fields)


def as_stored(item: Record, clock: SteppingClock) -> Record:
    """The record as it reads back: stamped with the time it was saved when it came without one, in its state since."""
    return replace(item, updated_at=item.updated_at or clock.now(), state_since=clock.now())


def test_records_round_trip_by_kind_and_spotilla_id(store: SqlStateStore, clock: SteppingClock) -> None:
    product = record(1, 501, fingerprint="abc")
    no_answer = Reason.of(ReasonCode.NO_ANSWER, what="Customer Kuusikko", detail="read timed out")
    customer = record(1, 9001, EntityKind.CUSTOMER, state=RecordState.PENDING, reasons=(no_answer,))
    store.save_record(product)
    store.save_record(customer)

    assert store.records(ORG, EntityKind.PRODUCT) == {1: as_stored(product, clock)}
    assert store.records(ORG, EntityKind.CUSTOMER) == {1: as_stored(customer, clock)}
    assert store.records(ORG, EntityKind.TASK) == {}
    assert store.records(ORG + 1, EntityKind.PRODUCT) == {}


def test_saving_a_record_again_replaces_it(store: SqlStateStore, clock: SteppingClock) -> None:
    store.save_record(record(1, None, state=RecordState.PENDING))
    clock.advance(5)
    store.save_record(record(1, 501, fingerprint="v2"))

    assert store.records(ORG, EntityKind.PRODUCT) == {1: as_stored(record(1, 501, fingerprint="v2"), clock)}


def test_a_procountor_id_cannot_be_paired_with_two_spotilla_objects(store: SqlStateStore, clock: SteppingClock) -> None:
    store.save_record(record(1, 501))

    with pytest.raises(RecordConflict, match="already paired"):  # an item's problem, not the run's
        store.save_record(record(2, 501))

    store.save_record(record(2, 501, EntityKind.CUSTOMER))  # another kind is another id space
    assert store.records(ORG, EntityKind.PRODUCT) == {1: as_stored(record(1, 501), clock)}


def test_a_retired_record_keeps_its_procountor_id_without_holding_it(store: SqlStateStore) -> None:
    store.save_record(record(1, 501, state=RecordState.RETIRED))
    store.save_record(record(2, 501))  # the customer was deleted; another may be paired with the partner
    assert {sid: r.state for sid, r in store.records(ORG, EntityKind.PRODUCT).items()} == {
        1: RecordState.RETIRED,
        2: RecordState.LINKED,
    }


def test_many_records_may_wait_for_a_procountor_id(store: SqlStateStore) -> None:
    for spotilla_id in (1, 2, 3):
        store.save_record(record(spotilla_id, None, state=RecordState.PENDING))

    assert len(store.records(ORG, EntityKind.PRODUCT)) == 3


def test_records_are_unique_in_both_directions_in_the_table_itself(engine: Engine) -> None:
    insert = text(
        "INSERT INTO procountor_records (organization_id, kind, spotilla_id, procountor_id, state) "
        "VALUES (:org, 'PRODUCT', :sid, :pid, 'LINKED')"
    )
    with engine.begin() as conn:
        conn.execute(insert, {"org": ORG, "sid": 1, "pid": 501})
    for duplicate in ({"org": ORG, "sid": 1, "pid": 502}, {"org": ORG, "sid": 2, "pid": 501}):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, duplicate)


def test_task_records_round_trip_with_their_reasons(store: SqlStateStore, engine: Engine, clock: SteppingClock) -> None:
    business_id = Reason.of(ReasonCode.BUSINESS_ID_MALFORMED, value="123456-7")
    products = Reason.of(ReasonCode.NO_PRODUCTS)
    earlier = Reason.stored(ReasonCode.NO_ORDER_NUMBER, "Tilausnumero puuttuu.")
    held = task(11, RecordState.HELD_BACK, reasons=(business_id, products, earlier), fingerprint="f1", attempts=1)
    created = task(12, RecordState.LINKED, 4_000_000_123, attempts=2, updated_at=clock.now())
    store.save_record(held)
    store.save_record(created)

    assert store.records(ORG, EntityKind.TASK) == {11: as_stored(held, clock), 12: as_stored(created, clock)}
    assert store.records(ORG, EntityKind.TASK)[11].reason_text == (
        "The customer's business ID '123456-7' is not of the form 1234567-8; correct it in Spotilla. "
        "The task has no products to invoice; add the products used on the task. Tilausnumero puuttuu."
    )
    assert list(store.records(ORG, EntityKind.TASK, [12, 99])) == [12]
    assert store.records(ORG, EntityKind.TASK, []) == {}
    with engine.connect() as conn:  # stored as code and facts, so a sentence can be reworded later
        stored = json.loads(
            conn.execute(text("SELECT reasons FROM procountor_records WHERE spotilla_id = 11")).one()[0]
        )
    assert stored[0] == {"code": "BUSINESS_ID_MALFORMED", "params": {"value": "123456-7"}}


def test_records_can_be_read_by_state(store: SqlStateStore) -> None:
    for task_id, state in enumerate(RecordState, start=1):
        store.save_record(task(task_id, state))
    store.save_record(record(1, None, state=RecordState.PENDING))  # another kind: never among the tasks

    by_state = store.records(ORG, EntityKind.TASK, states=[RecordState.LINKED])
    in_doubt = store.records(ORG, EntityKind.TASK, [2, 3], states=IN_DOUBT)

    assert [r.state for r in by_state.values()] == [RecordState.LINKED]
    assert {r.state for r in store.records(ORG, EntityKind.TASK, states=IN_DOUBT).values()} == set(IN_DOUBT)
    assert [r.state for r in in_doubt.values()] == [RecordState.SENT]  # ids and states together
    assert store.records(ORG, EntityKind.TASK, states=[]) == {}


def test_reading_many_records_by_id_takes_a_statement_per_500(engine: Engine, store: SqlStateStore) -> None:
    for task_id in (1, 600, 1200):
        store.save_record(task(task_id, RecordState.SENT))

    with count_statements(engine) as statements:
        found = store.records(ORG, EntityKind.TASK, range(1, 1201))

    assert sorted(found) == [1, 600, 1200]
    assert len(statements) == 3


def test_a_task_moves_through_its_states(store: SqlStateStore) -> None:
    for state in (RecordState.PENDING, RecordState.SENT, RecordState.LINKED):
        store.save_record(task(11, state, 5 if state == RecordState.LINKED else None))

    assert store.records(ORG, EntityKind.TASK)[11].state is RecordState.LINKED
    assert store.records(ORG, EntityKind.TASK)[11].procountor_id == 5


def test_an_invoice_belongs_to_one_task_only(store: SqlStateStore) -> None:
    store.save_record(task(11, RecordState.LINKED, 5))

    with pytest.raises(RepositoryError):
        store.save_record(task(12, RecordState.LINKED, 5))

    assert list(store.records(ORG, EntityKind.TASK)) == [11]


def test_writes_are_visible_to_another_connection_at_once(engine: Engine, store: SqlStateStore) -> None:
    store.save_record(task(11, RecordState.SENT))
    other_engine = make_engine(engine.url)
    try:
        assert SqlStateStore(other_engine).records(ORG, EntityKind.TASK)[11].state is RecordState.SENT
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
        Flow.INVOICES, EntityKind.TASK, 11, Outcome.HELD_BACK, reason_code="NO_PRODUCTS", message="Ei tuotteita."
    )
    store.record_event(second, event)
    store.record_event(second, Event(Flow.PRODUCTS, EntityKind.PRODUCT, 3, Outcome.WOULD_CREATE))

    runs = store.runs(ORG)

    assert [(r.id, r.status, r.dry_run) for r in runs] == [
        (second, RunStatus.RUNNING, True),
        (first, RunStatus.FAILED, False),
    ]
    assert runs[1].started_at == started
    assert runs[1].finished_at == clock.now()
    assert runs[1].error == "Procountor rejected the credentials"
    assert store.run_events(second) == [event, Event(Flow.PRODUCTS, EntityKind.PRODUCT, 3, Outcome.WOULD_CREATE)]

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


def stamped(records: dict[int, Record]) -> dict[int, Record]:
    """Records without the time they were saved (the in-memory store stamps the wall clock)."""
    return {sid: replace(r, updated_at=None, state_since=None) for sid, r in records.items()}


def test_writes_made_together_appear_together_when_the_block_ends(any_store) -> None:
    run_id = any_store.start_run(ORG)
    event = Event(Flow.PRODUCTS, EntityKind.PRODUCT, 1, Outcome.CREATED, 501)

    with any_store.together():
        any_store.save_record(record(1, 501))
        with any_store.together():  # a nested block joins the outer one
            any_store.remember_partners(ORG, [PartnerMirrorEntry(77, "0112038-9", None)])
        any_store.record_event(run_id, event)
        assert any_store.records(ORG, EntityKind.PRODUCT) == {}  # nothing before the end of the block
        assert any_store.partner_mirror(ORG) == {}

    assert stamped(any_store.records(ORG, EntityKind.PRODUCT)) == {1: record(1, 501)}
    assert set(any_store.partner_mirror(ORG)) == {77}
    any_store.save_record(record(2, 502))  # outside a block, a write is done at once
    assert set(any_store.records(ORG, EntityKind.PRODUCT)) == {1, 2}


def test_a_block_that_raises_writes_nothing(any_store) -> None:
    with pytest.raises(ZeroDivisionError), any_store.together():
        any_store.save_record(record(1, 501))
        _ = 1 / 0  # a bug in the block is not mistaken for a database error

    assert any_store.records(ORG, EntityKind.PRODUCT) == {}


def test_a_write_the_database_refuses_undoes_the_whole_block(any_store) -> None:
    any_store.save_record(record(1, 501))
    run_id = any_store.start_run(ORG)

    with pytest.raises(RepositoryError, match=r"saving a record|already paired"), any_store.together():
        any_store.save_record(task(11, RecordState.LINKED, 9))
        any_store.record_event(run_id, Event(Flow.INVOICES, EntityKind.TASK, 11, Outcome.CREATED, 9))
        any_store.save_record(record(2, 501))  # 501 is paired with product 1 already

    assert any_store.records(ORG, EntityKind.TASK) == {}
    assert stamped(any_store.records(ORG, EntityKind.PRODUCT)) == {1: record(1, 501)}
    assert events_of(any_store, run_id) == []


def events_of(any_store, run_id: int) -> list[Event]:
    return any_store.run_events(run_id) if isinstance(any_store, SqlStateStore) else any_store.events[run_id]


def test_a_released_procountor_id_leaves_a_product_waiting_and_a_task_transferred(any_store) -> None:
    gone = Reason.of(ReasonCode.GONE_IN_PROCOUNTOR, what="product", procountor_id=500)
    any_store.save_record(record(1, 500, fingerprint="fp"))
    any_store.save_record(record(7, 500, EntityKind.TASK))
    any_store.release(ORG, EntityKind.PRODUCT, 500, gone)
    any_store.release(ORG, EntityKind.TASK, 500, gone)

    product = any_store.records(ORG, EntityKind.PRODUCT)[1]
    task = any_store.records(ORG, EntityKind.TASK)[7]
    assert (product.state, product.procountor_id, product.fingerprint, product.reasons) == (
        RecordState.HELD_BACK,
        None,
        None,
        (gone,),
    )
    assert (task.state, task.procountor_id) == (RecordState.LINKED, None)  # never invoiced again
    any_store.save_record(record(2, 500))  # the id is free for the item Procountor now gives it to

"""What readiness and the metrics scrape read: enabled tenants, their runs and open items, in a fixed few statements."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from spotilla_procountor.adapters.spotilla_sql.health_queries import ItemCounts, SqlHealthQueries
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Record, RecordState, RunStatus

from .conftest import SteppingClock
from .seed import Seed, count_statements

MISSING_ID = Reason.of(ReasonCode.BUSINESS_ID_MISSING)
BEFORE_START = Reason.of(ReasonCode.COMPLETED_BEFORE_START, completed_on=date(2024, 1, 1), start=date(2025, 1, 1))
REFUSED = Reason.of(ReasonCode.REJECTED_BY_PROCOUNTOR, message="bad")


def _tenant(seed: Seed, store: SqlStateStore, *, enabled: bool = True) -> int:
    org = seed.organization()
    store.save_settings(TenantConfig(organization_id=org, enabled=enabled))
    return org


def _run(store: SqlStateStore, clock: SteppingClock, org: int, status: RunStatus, minutes: float = 1) -> int:
    run_id = store.start_run(org)
    clock.advance(minutes * 60)
    if status != RunStatus.RUNNING:
        store.finish_run(run_id, status, {})
    return run_id


def test_a_tenant_s_last_success_is_its_newest_succeeded_or_partial_run_and_failures_after_it_do_not_move_it(
    seed: Seed, store: SqlStateStore, clock: SteppingClock
) -> None:
    org = _tenant(seed, store)
    _run(store, clock, org, RunStatus.SUCCEEDED)
    _run(store, clock, org, RunStatus.PARTIAL)
    partial_finished = clock.now()
    _run(store, clock, org, RunStatus.FAILED)
    _run(store, clock, org, RunStatus.INTERRUPTED)
    started = clock.now()
    _run(store, clock, org, RunStatus.RUNNING)

    [health] = SqlHealthQueries(store._engine).enabled_tenants()

    assert health.organization_id == org
    assert health.last_success_at == partial_finished
    assert (health.latest_run_status, health.latest_run_started_at) == (RunStatus.RUNNING, started)
    assert health.enabled_since is not None


def test_only_enabled_tenants_are_watched_and_one_that_never_ran_has_no_runs(
    seed: Seed, store: SqlStateStore, clock: SteppingClock
) -> None:
    on = _tenant(seed, store)
    off = _tenant(seed, store, enabled=False)
    _run(store, clock, off, RunStatus.SUCCEEDED)

    [health] = SqlHealthQueries(store._engine).enabled_tenants()

    assert health.organization_id == on
    assert (health.latest_run_status, health.latest_run_started_at, health.last_success_at) == (None, None, None)


def test_open_items_are_counted_by_tenant_and_kind_leaving_out_tasks_from_before_the_start_day(
    seed: Seed, store: SqlStateStore, clock: SteppingClock
) -> None:
    org = _tenant(seed, store)
    off = _tenant(seed, store, enabled=False)
    oldest = clock.now()
    store.save_record(Record(org, EntityKind.TASK, 3, RecordState.HELD_BACK, reasons=(BEFORE_START,)))
    store.save_record(Record(org, EntityKind.TASK, 1, RecordState.HELD_BACK, reasons=(MISSING_ID,)))
    clock.advance(9 * 86400)
    stored = [
        # judged again 9 days later, with other reasons: held back since the first time all the same
        Record(org, EntityKind.TASK, 1, RecordState.HELD_BACK, reasons=(MISSING_ID, REFUSED)),
        Record(org, EntityKind.TASK, 2, RecordState.HELD_BACK, reasons=(MISSING_ID,)),
        Record(org, EntityKind.TASK, 4, RecordState.FAILED, reasons=(REFUSED,)),
        Record(org, EntityKind.TASK, 5, RecordState.LINKED, procountor_id=5),
        Record(org, EntityKind.TASK, 6, RecordState.SENT),
        Record(org, EntityKind.CUSTOMER, 1, RecordState.FAILED, reasons=(REFUSED,)),
        Record(org, EntityKind.CUSTOMER, 2, RecordState.FAILED, reasons=(REFUSED,)),
        Record(off, EntityKind.TASK, 1, RecordState.FAILED, reasons=(REFUSED,)),
    ]
    for record in stored:
        store.save_record(record)

    items = SqlHealthQueries(store._engine).snapshot().items

    assert items == {
        (org, EntityKind.TASK): ItemCounts(held_back=2, failed=1, in_doubt=1, oldest_held_back_at=oldest),
        (org, EntityKind.CUSTOMER): ItemCounts(failed=2),
    }


def test_a_snapshot_takes_two_statements_however_many_tenants(
    engine: Engine, seed: Seed, store: SqlStateStore, clock: SteppingClock
) -> None:
    queries = SqlHealthQueries(engine)

    def statements_for_a_snapshot() -> int:
        with count_statements(engine) as statements:
            queries.snapshot()
        return len(statements)

    first = _tenant(seed, store)
    _run(store, clock, first, RunStatus.SUCCEEDED)
    store.save_record(Record(first, EntityKind.TASK, 1, RecordState.HELD_BACK, reasons=(MISSING_ID,)))
    with_one = statements_for_a_snapshot()
    for _ in range(6):
        org = _tenant(seed, store)
        _run(store, clock, org, RunStatus.FAILED)
        store.save_record(Record(org, EntityKind.TASK, 1, RecordState.FAILED, reasons=(REFUSED,)))
    with_seven = statements_for_a_snapshot()

    assert with_one == with_seven == 2
    assert len(queries.snapshot().tenants) == 7
    with count_statements(engine) as statements:
        queries.enabled_tenants()
    assert len(statements) == 1


def test_one_tenant_s_records_are_counted_by_kind_and_state_in_one_statement_with_older_tasks_apart(
    seed: Seed, store: SqlStateStore, engine: Engine
) -> None:
    org, other = _tenant(seed, store), _tenant(seed, store)

    def record(org_id: int, kind: EntityKind, spotilla_id: int, state: RecordState, *reasons: Reason) -> None:
        store.save_record(Record(org_id, kind, spotilla_id, state, reasons=reasons))

    record(org, EntityKind.TASK, 1, RecordState.LINKED)
    record(org, EntityKind.TASK, 2, RecordState.LINKED)
    record(org, EntityKind.TASK, 3, RecordState.HELD_BACK, MISSING_ID)
    record(org, EntityKind.TASK, 4, RecordState.HELD_BACK, BEFORE_START)
    record(org, EntityKind.TASK, 5, RecordState.FAILED, REFUSED)
    record(org, EntityKind.CUSTOMER, 1, RecordState.SENT)
    record(other, EntityKind.TASK, 9, RecordState.FAILED, REFUSED)

    with count_statements(engine) as statements:
        counts = SqlHealthQueries(engine).record_counts(org)

    assert len(statements) == 1
    assert counts == {
        (EntityKind.TASK, RecordState.LINKED): 2,
        (EntityKind.TASK, RecordState.HELD_BACK): 1,
        (EntityKind.TASK, None): 1,
        (EntityKind.TASK, RecordState.FAILED): 1,
        (EntityKind.CUSTOMER, RecordState.SENT): 1,
    }


def test_a_run_is_found_only_under_its_own_tenant(seed: Seed, store: SqlStateStore, clock: SteppingClock) -> None:
    org, other = _tenant(seed, store), _tenant(seed, store)
    run_id = _run(store, clock, org, RunStatus.SUCCEEDED)

    found = store.run(org, run_id)

    assert found is not None and (found.id, found.status) == (run_id, RunStatus.SUCCEEDED)
    assert store.run(other, run_id) is None
    assert store.run(org, run_id + 1000) is None

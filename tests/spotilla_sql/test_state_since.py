"""Since when an item is in its state: set when the state changes, kept while the same state is saved again.

The admin page says "held back since 3 days"; `updated_at` cannot tell, as every save rewrites it. Each test runs
on SQLite, PostgreSQL and the in-memory store, with a clock that moves only when told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from dbutil import postgres_engine, sqlite_engine
from spotilla_procountor.adapters.memory import InMemoryStateStore
from spotilla_procountor.adapters.spotilla_sql.migrate import alembic_config, upgrade_database
from spotilla_procountor.adapters.spotilla_sql.state_models import RecordArchiveRow
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Fence, Record, RecordState

from .conftest import SteppingClock

ORG = 7
DAY = 24 * 3600
NO_BUSINESS_ID = Reason.of(ReasonCode.BUSINESS_ID_MISSING)
NO_PRODUCTS = Reason.of(ReasonCode.NO_PRODUCTS)
TAKEN = Reason.of(ReasonCode.FIELD_INVALID, field="partner", detail="paired with another customer now")

Store = SqlStateStore | InMemoryStateStore
Archived = list[tuple[int | None, int, datetime | None]]
"""(company id, Spotilla id, state since) of the archived records."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, clock: SteppingClock
) -> Iterator[tuple[Store, Callable[[], Archived]]]:
    """A store, and what its archive holds."""
    if request.param == "memory":
        memory = InMemoryStateStore(clock=clock)
        yield memory, lambda: [(company, r.spotilla_id, r.state_since) for company, r in memory.archived]
    elif request.param == "sqlite":
        engine = sqlite_engine(tmp_path)
        upgrade_database(engine)
        yield SqlStateStore(engine, clock=clock), lambda: archive_rows(engine)
        engine.dispose()
    else:
        with postgres_engine() as engine:
            upgrade_database(engine)
            yield SqlStateStore(engine, clock=clock), lambda: archive_rows(engine)


@pytest.fixture
def state(backend: tuple[Store, Callable[[], Archived]]) -> Store:
    return backend[0]


def archive_rows(engine: Engine) -> Archived:
    archive = RecordArchiveRow.__table__.c
    with engine.connect() as connection:  # nothing in the service reads the archive: it is history for people
        return [
            tuple(row)
            for row in connection.execute(select(archive.company_id, archive.spotilla_id, archive.state_since))
        ]


def item(spotilla_id: int, state: RecordState, *reasons: Reason, kind: EntityKind = EntityKind.TASK) -> Record:
    return Record(ORG, kind, spotilla_id, state, reasons=reasons, fingerprint="seen")


def stored(state: Store, spotilla_id: int, kind: EntityKind = EntityKind.TASK) -> Record:
    return state.records(ORG, kind)[spotilla_id]


HOLDER = "host-a:1:1"


def fence_of(state: Store) -> Fence:
    fence = state.acquire_run_lock(ORG, HOLDER, ttl_s=7 * DAY)  # a SQLite lease that outlives the clock's moves
    assert fence is not None
    return fence


def test_a_new_record_is_in_its_state_since_it_was_saved(state: Store, clock: SteppingClock) -> None:
    state.save_record(item(1, RecordState.HELD_BACK, NO_BUSINESS_ID))

    assert stored(state, 1).state_since == clock.now()


def test_an_item_held_back_again_on_a_later_run_keeps_its_time_even_with_other_reasons(
    state: Store, clock: SteppingClock
) -> None:
    state.save_record(item(1, RecordState.HELD_BACK, NO_BUSINESS_ID))
    first = clock.now()
    clock.advance(3 * DAY)

    state.save_record(replace(stored(state, 1), reasons=(NO_BUSINESS_ID, NO_PRODUCTS), updated_at=None))
    state.save_record(item(1, RecordState.HELD_BACK, NO_PRODUCTS))  # also when the record comes without its time

    again = stored(state, 1)
    assert (again.state_since, again.updated_at, again.reasons) == (first, clock.now(), (NO_PRODUCTS,))


def test_a_change_of_state_starts_the_time_again_whatever_the_saved_record_carries(
    state: Store, clock: SteppingClock
) -> None:
    state.save_record(item(1, RecordState.HELD_BACK, NO_BUSINESS_ID))
    clock.advance(DAY)

    state.save_record(replace(stored(state, 1), state=RecordState.FAILED, updated_at=None))  # carries the old time

    assert stored(state, 1).state_since == clock.now()


def test_a_claim_starts_the_time_of_the_pending_state_and_a_claim_again_keeps_it(
    state: Store, clock: SteppingClock
) -> None:
    state.save_record(item(1, RecordState.HELD_BACK, NO_BUSINESS_ID))
    fence = fence_of(state)
    clock.advance(DAY)
    claimed_at = clock.now()

    claimed = state.claim(fence, replace(stored(state, 1), state=RecordState.PENDING))
    clock.advance(60)
    again = state.claim(fence, replace(claimed, attempts=claimed.attempts + 1))

    assert claimed.state_since == again.state_since == stored(state, 1).state_since == claimed_at
    clock.advance(60)
    state.save_record(replace(again, state=RecordState.LINKED, procountor_id=9, updated_at=None))
    assert stored(state, 1).state_since == clock.now()
    state.release_run_lock(ORG, HOLDER)


def test_trying_items_again_does_not_change_since_when_they_wait(state: Store, clock: SteppingClock) -> None:
    state.save_record(item(1, RecordState.HELD_BACK, NO_BUSINESS_ID))
    state.save_record(item(2, RecordState.FAILED, NO_PRODUCTS))
    since = clock.now()
    clock.advance(DAY)

    assert state.requeue(ORG) == 2

    assert [(r.state_since, r.fingerprint) for r in state.records(ORG, EntityKind.TASK).values()] == [(since, None)] * 2


def test_a_released_customer_is_held_back_from_then_and_a_released_task_keeps_its_time(
    state: Store, clock: SteppingClock
) -> None:
    state.save_record(replace(item(1, RecordState.LINKED), procountor_id=501))
    state.save_record(replace(item(2, RecordState.LINKED, kind=EntityKind.CUSTOMER), procountor_id=77))
    linked_at = clock.now()
    clock.advance(DAY)

    state.release(ORG, EntityKind.TASK, 501, TAKEN)
    state.release(ORG, EntityKind.CUSTOMER, 77, TAKEN)

    task, customer = stored(state, 1), stored(state, 2, EntityKind.CUSTOMER)
    assert (task.state, task.procountor_id, task.state_since) == (RecordState.LINKED, None, linked_at)
    assert (customer.state, customer.procountor_id, customer.state_since) == (RecordState.HELD_BACK, None, clock.now())


def test_writes_made_together_keep_the_same_rule(state: Store, clock: SteppingClock) -> None:
    state.save_record(item(1, RecordState.HELD_BACK, NO_BUSINESS_ID))
    held_at = clock.now()
    clock.advance(DAY)

    with state.together():
        state.save_record(item(1, RecordState.HELD_BACK, NO_PRODUCTS))
        state.save_record(item(2, RecordState.FAILED, NO_PRODUCTS))

    assert stored(state, 1).state_since == held_at
    assert stored(state, 2).state_since == clock.now()


def test_records_of_a_company_switched_away_from_are_archived_with_their_time(
    backend: tuple[Store, Callable[[], Archived]], clock: SteppingClock
) -> None:
    state, archived = backend
    state.save_record(item(1, RecordState.HELD_BACK, NO_BUSINESS_ID))
    held_at = clock.now()
    clock.advance(DAY)

    assert state.archive_for_company_switch(ORG, 42) == 1

    assert archived() == [(42, 1, held_at)]


def test_a_row_without_a_time_gets_one_when_it_is_saved_again(engine: Engine, clock: SteppingClock) -> None:
    with engine.begin() as connection:  # written by a version before the column, during an upgrade
        connection.execute(
            text(
                "INSERT INTO procountor_records (organization_id, kind, spotilla_id, state) "
                "VALUES (:org, 'TASK', 1, 'HELD_BACK')"
            ),
            {"org": ORG},
        )
    state = SqlStateStore(engine, clock=clock)
    assert stored(state, 1).state_since is None

    state.save_record(item(1, RecordState.HELD_BACK, NO_BUSINESS_ID))

    assert stored(state, 1).state_since == clock.now()


def test_the_upgrade_starts_existing_records_from_when_they_were_last_saved(empty_engine: Engine) -> None:
    with empty_engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0004")
    insert = (
        "INSERT INTO {table} (organization_id, {extra} kind, spotilla_id, state, updated_at) "
        "VALUES (:org, {value} 'TASK', :sid, :state, :at)"
    )
    rows = [
        {"org": ORG, "sid": 1, "state": "HELD_BACK", "at": "2025-03-01 10:00:00"},
        {"org": ORG, "sid": 2, "state": "LINKED", "at": "2025-03-02 11:30:00"},
    ]
    with empty_engine.begin() as connection:
        connection.execute(text(insert.format(table="procountor_records", extra="", value="")), rows)
        archive = insert.format(table="procountor_records_archive", extra="company_id,", value="42,")
        connection.execute(text(archive), rows[:1])

    upgrade_database(empty_engine)

    state = SqlStateStore(empty_engine)
    assert {sid: str(r.state_since) for sid, r in state.records(ORG, EntityKind.TASK).items()} == {
        1: "2025-03-01 10:00:00+00:00",
        2: "2025-03-02 11:30:00+00:00",
    }
    assert [str(since) for _, _, since in archive_rows(empty_engine)] == ["2025-03-01 10:00:00+00:00"]

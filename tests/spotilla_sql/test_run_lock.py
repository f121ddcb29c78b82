"""Only one run per tenant at a time: whoever holds the tenant's run lock runs; the others do not start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from dbutil import postgres_engine, sqlite_engine
from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.run_lock import LeaseRunLocks, holder_id
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.domain.state import Fence

from .conftest import SteppingClock, kill_lock_holder


@pytest.fixture
def rival(engine: Engine, clock: SteppingClock) -> SqlStateStore:
    """Another scheduler process's store on the same database."""
    return SqlStateStore(engine, clock=clock)


def test_a_second_holder_does_not_get_the_lock_until_the_first_releases_it(
    store: SqlStateStore, rival: SqlStateStore, org: int
) -> None:
    assert store.acquire_run_lock(org, "worker-a", ttl_s=60) == Fence(org, 1, "worker-a")
    assert rival.acquire_run_lock(org, "worker-b", ttl_s=60) is None
    assert rival.acquire_run_lock(org + 1, "worker-b", ttl_s=60) == Fence(org + 1, 1, "worker-b")  # runs freely

    store.release_run_lock(org, "worker-a")

    assert rival.acquire_run_lock(org, "worker-b", ttl_s=60) == Fence(org, 2, "worker-b")  # the epoch goes on
    rival.release_run_lock(org, "worker-b")
    rival.release_run_lock(org + 1, "worker-b")


def test_taking_a_lock_one_already_holds_succeeds_with_a_new_epoch(store: SqlStateStore, org: int) -> None:
    first = store.acquire_run_lock(org, "worker-a", ttl_s=60)
    again = store.acquire_run_lock(org, "worker-a", ttl_s=60)

    assert first is not None and again is not None
    assert again.epoch == first.epoch + 1
    assert store.holds(again) and not store.holds(first)
    store.release_run_lock(org, "worker-a")


def test_releasing_someone_elses_lock_does_nothing(store: SqlStateStore, rival: SqlStateStore, org: int) -> None:
    assert store.acquire_run_lock(org, "worker-a", ttl_s=60)

    rival.release_run_lock(org, "worker-b")

    assert not rival.acquire_run_lock(org, "worker-b", ttl_s=60)
    store.release_run_lock(org, "worker-a")


def test_the_run_lock_block_releases_the_lock_even_when_the_run_fails(
    store: SqlStateStore, rival: SqlStateStore, org: int
) -> None:
    with pytest.raises(RuntimeError), store.run_lock(org, "worker-a", ttl_s=60) as taken:
        assert taken == Fence(org, 1, "worker-a")
        with rival.run_lock(org, "worker-b", ttl_s=60) as rival_taken:
            assert rival_taken is None
        raise RuntimeError("the run broke")

    assert not store.holds(taken)
    with rival.run_lock(org, "worker-b", ttl_s=60) as rival_taken:
        assert rival_taken == Fence(org, 2, "worker-b")
        assert rival.holds(rival_taken)
    assert not rival.holds(rival_taken)


def test_an_expired_lease_is_taken_over(engine: Engine, clock: SteppingClock, org: int) -> None:
    locks = LeaseRunLocks(engine, clock.now)
    assert locks.acquire(org, "worker-a", ttl_s=60)

    clock.advance(59)
    assert not locks.acquire(org, "worker-b", ttl_s=60)
    clock.advance(2)
    assert locks.acquire(org, "worker-b", ttl_s=60)

    assert not locks.renew(org, "worker-a", ttl_s=60)
    locks.release(org, "worker-a")
    assert not locks.acquire(org, "worker-a", ttl_s=60)


def test_a_renewed_lease_stays_with_its_holder(engine: Engine, clock: SteppingClock, org: int) -> None:
    locks = LeaseRunLocks(engine, clock.now)
    assert locks.acquire(org, "worker-a", ttl_s=60)

    clock.advance(50)
    assert locks.renew(org, "worker-a", ttl_s=60)
    clock.advance(50)

    assert not locks.acquire(org, "worker-b", ttl_s=60)


def test_sqlite_run_locks_are_leases(tmp_path: Path, clock: SteppingClock, org: int) -> None:
    engine = sqlite_engine(tmp_path)
    upgrade_database(engine)
    store, rival = SqlStateStore(engine, clock=clock), SqlStateStore(engine, clock=clock)
    assert store.acquire_run_lock(org, "worker-a", ttl_s=60)

    clock.advance(61)

    fence = rival.acquire_run_lock(org, "worker-b", ttl_s=60)
    assert fence is not None and rival.holds(fence)
    assert not store.renew_run_lock(org, "worker-a", ttl_s=60)
    clock.advance(61)
    assert not rival.holds(fence)  # a lease that ran out holds nothing, even before someone else takes it
    engine.dispose()


@pytest.mark.postgres
def test_a_postgres_advisory_lock_excludes_another_engine_and_dies_with_its_connection(org: int) -> None:
    with postgres_engine() as engine:
        upgrade_database(engine)
        other_engine = make_engine(engine.url)
        try:
            store, rival = SqlStateStore(engine), SqlStateStore(other_engine)
            fence = store.acquire_run_lock(org, "worker-a", ttl_s=1)
            assert fence is not None and store.holds(fence)
            assert rival.acquire_run_lock(org, "worker-b", ttl_s=1) is None
            assert store.renew_run_lock(org, "worker-a", ttl_s=1)

            kill_lock_holder(other_engine, org)  # the scheduler process holding it died

            assert not store.holds(fence)  # at once, before anyone else takes the lock
            rival_fence = rival.acquire_run_lock(org, "worker-b", ttl_s=1)
            assert rival_fence is not None and rival_fence.epoch == fence.epoch + 1
            assert not store.renew_run_lock(org, "worker-a", ttl_s=1)
            rival.release_run_lock(org, "worker-b")
        finally:
            other_engine.dispose()


def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_over_at_once(tmp_path: Path) -> None:
    # Only the SQLite lease needs this: PostgreSQL's advisory lock dies with its holder's connection.
    engine = sqlite_engine(tmp_path)
    upgrade_database(engine)
    dead = f"{socket.gethostname()}:{_pid_of_a_finished_process()}:1"
    assert SqlStateStore(engine).acquire_run_lock(1, dead, ttl_s=3600)
    assert SqlStateStore(engine).acquire_run_lock(1, holder_id(), ttl_s=60)
    engine.dispose()


def test_a_lease_of_a_live_process_is_not_taken_over(store: SqlStateStore, rival: SqlStateStore, org: int) -> None:
    alive = f"{socket.gethostname()}:{os.getpid()}:1"
    assert store.acquire_run_lock(org, alive, ttl_s=3600)
    assert not rival.acquire_run_lock(org, "another-host:1:1", ttl_s=60)
    assert not rival.acquire_run_lock(org, f"{socket.gethostname()}:{os.getpid()}:2", ttl_s=60)


def _pid_of_a_finished_process() -> int:
    return int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
        ).stdout
    )


@pytest.mark.postgres
def test_installations_in_two_schemas_of_one_database_do_not_block_each_others_tenants() -> None:
    with postgres_engine() as first, postgres_engine() as second:
        upgrade_database(first)
        upgrade_database(second)
        one, other = SqlStateStore(first), SqlStateStore(second)
        try:
            assert one.acquire_run_lock(1, "installation-a", ttl_s=60)
            assert other.acquire_run_lock(1, "installation-b", ttl_s=60)
            assert not SqlStateStore(first).acquire_run_lock(1, "installation-a2", ttl_s=60)  # same schema: held
        finally:
            one.release_run_lock(1, "installation-a")
            other.release_run_lock(1, "installation-b")

"""Issue 11, deterministically: two runs interleaved through the seam; the stale holder's claim is refused.

A run claims an item (stores it PENDING) before it sends its create, carrying the fence its run lock gave it. A run
that lost its lock without noticing (a terminated PostgreSQL connection, an expired SQLite lease, in memory
`lose_lock`) must not claim anything once another run may hold the lock: the claim raises `LockLost` and stores
nothing. Each test runs on SQLite, PostgreSQL and the in-memory store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from dbutil import postgres_engine, sqlite_engine
from spotilla_procountor.adapters.memory import InMemoryStateStore
from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.domain.errors import LockLost
from spotilla_procountor.domain.state import EntityKind, Fence, Record, RecordState

from .conftest import SteppingClock, kill_lock_holder

TTL_S = 60
A, B, C = "host-a:1:1", "host-b:1:1", "host-c:1:1"
"""Holders on other hosts: a SQLite lease of theirs is never taken over as a dead local process's."""

Store = SqlStateStore | InMemoryStateStore


@dataclass
class Backend:
    """Where the runs meet: each `process()` is another scheduler process's store on the same database."""

    name: str
    process: Callable[[], Store]
    lose_lock: Callable[[int], None]
    """The tenant's lock holder loses the lock without noticing (its connection dropped, its lease ran out)."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, org: int) -> Iterator[Backend]:
    if request.param == "memory":
        state = InMemoryStateStore()  # one store: its lock table is what every "process" shares
        yield Backend("memory", lambda: state, state.lose_lock)
    elif request.param == "sqlite":
        engine = sqlite_engine(tmp_path)
        upgrade_database(engine)
        clock = SteppingClock()
        yield Backend("sqlite", lambda: SqlStateStore(engine, clock=clock), lambda _org: clock.advance(TTL_S + 1))
        engine.dispose()
    else:
        with postgres_engine() as engine:
            upgrade_database(engine)
            yield Backend("postgres", lambda: SqlStateStore(engine), lambda org: kill_lock_holder(engine, org))


def pending(org: int, task_id: int, fingerprint: str | None = None) -> Record:
    return Record(org, EntityKind.TASK, task_id, RecordState.PENDING, fingerprint=fingerprint)


def take(store: Store, org: int, holder: str) -> Fence:
    fence = store.acquire_run_lock(org, holder, TTL_S)
    assert fence is not None, f"{holder} did not get the lock"
    return fence


def test_a_run_that_lost_its_lock_cannot_claim_once_another_run_took_it(backend: Backend, org: int) -> None:
    run_a, run_b = backend.process(), backend.process()

    # 1. A takes the lock and claims item 1.
    fence_a = take(run_a, org, A)
    assert fence_a.organization_id == org and fence_a.holder == A
    claimed_1 = run_a.claim(fence_a, pending(org, 1))
    assert claimed_1.claim_epoch == fence_a.epoch and claimed_1.claimed_at is not None
    assert claimed_1.state is RecordState.PENDING
    assert run_a.holds(fence_a)

    # 2. A loses its lock without noticing; it can claim nothing more, even before anyone else takes the lock.
    backend.lose_lock(org)
    assert not run_a.holds(fence_a)
    with pytest.raises(LockLost):
        run_a.claim(fence_a, pending(org, 3))

    # 3. B takes the lock with a newer epoch and claims item 2.
    fence_b = take(run_b, org, B)
    assert fence_b.epoch > fence_a.epoch
    claimed_2 = run_b.claim(fence_b, pending(org, 2))
    assert claimed_2.claim_epoch == fence_b.epoch

    # 4. A's claims are refused, a new item's and the item B holds, and store nothing.
    for task_id in (3, 2):
        with pytest.raises(LockLost):
            run_a.claim(fence_a, pending(org, task_id, fingerprint="run A's data"))
    assert run_b.records(org, EntityKind.TASK) == {1: claimed_1, 2: claimed_2}
    assert run_a.records(org, EntityKind.TASK) == {1: claimed_1, 2: claimed_2}  # as A's process reads them too
    assert not run_a.holds(fence_a)
    assert run_b.holds(fence_b)
    run_b.release_run_lock(org, B)


def test_a_run_that_released_its_lock_cannot_claim_once_the_next_run_took_it(backend: Backend, org: int) -> None:
    run_b, run_c = backend.process(), backend.process()
    fence_b = take(run_b, org, B)
    claimed_1 = run_b.claim(fence_b, pending(org, 1))

    run_b.release_run_lock(org, B)  # B's connection stays alive; only the epoch moves on
    fence_c = take(run_c, org, C)

    assert fence_c.epoch > fence_b.epoch
    for task_id in (2, 1):  # a new item, and its own earlier claim
        with pytest.raises(LockLost):
            run_b.claim(fence_b, pending(org, task_id, fingerprint="run B's data"))
    assert not run_b.holds(fence_b)
    assert run_c.holds(fence_c)
    claimed_2 = run_c.claim(fence_c, pending(org, 2))
    assert run_c.records(org, EntityKind.TASK) == {1: claimed_1, 2: claimed_2}
    run_c.release_run_lock(org, C)


def test_a_fence_is_stale_once_its_holder_took_the_lock_again(backend: Backend, org: int) -> None:
    # The epoch alone decides here: the holder still holds the lock, but an older fence of its own is refused.
    run = backend.process()
    old = take(run, org, A)
    new = take(run, org, A)

    assert new.epoch == old.epoch + 1
    with pytest.raises(LockLost):
        run.claim(old, pending(org, 1))
    assert run.records(org, EntityKind.TASK) == {}
    assert run.claim(new, pending(org, 1)).claim_epoch == new.epoch
    assert not run.holds(old) and run.holds(new)
    run.release_run_lock(org, A)


def test_a_claim_with_a_fence_the_process_never_got_is_refused(backend: Backend, org: int) -> None:
    run, other = backend.process(), backend.process()
    with pytest.raises(LockLost):  # nobody ever took the tenant's lock
        run.claim(Fence(org, 1, A), pending(org, 1))

    fence_b = take(other, org, B)
    for made_up in (Fence(org, fence_b.epoch, A), Fence(org, fence_b.epoch + 1, A), Fence(org, 0, A)):
        assert not run.holds(made_up)
        with pytest.raises(LockLost):
            run.claim(made_up, pending(org, 1))
    with pytest.raises(LockLost):  # the lock is the tenant's: a fence of another tenant's epoch counts for nothing
        run.claim(Fence(org + 1, fence_b.epoch, B), pending(org + 1, 1))

    assert run.records(org, EntityKind.TASK) == {}
    assert run.records(org + 1, EntityKind.TASK) == {}
    other.release_run_lock(org, B)


def test_a_claim_is_stored_at_once_even_inside_a_together_block(backend: Backend, org: int) -> None:
    # It must be durable before the create goes out, whatever block the caller is in.
    run = backend.process()
    fence = take(run, org, A)

    with pytest.raises(ZeroDivisionError), run.together():
        claimed = run.claim(fence, pending(org, 1))
        assert run.records(org, EntityKind.TASK) == {1: claimed}
        _ = 1 / 0

    assert run.records(org, EntityKind.TASK) == {1: claimed}
    run.release_run_lock(org, A)


def test_a_claim_is_stored_as_it_was_given_with_its_epoch_and_time(backend: Backend, org: int) -> None:
    run = backend.process()
    fence = take(run, org, A)
    earlier = replace(pending(org, 1, fingerprint="fp"), attempts=2, procountor_id=None)

    claimed = run.claim(fence, earlier)

    assert replace(claimed, claim_epoch=None, claimed_at=None, updated_at=None, state_since=None) == earlier
    assert claimed.updated_at == claimed.claimed_at == claimed.state_since
    assert run.records(org, EntityKind.TASK) == {1: claimed}
    run.release_run_lock(org, A)


def test_a_holder_that_lost_its_lock_does_not_get_it_back_while_another_holds_it(backend: Backend, org: int) -> None:
    run_a, run_b = backend.process(), backend.process()
    take(run_a, org, A)
    backend.lose_lock(org)
    fence_b = take(run_b, org, B)

    assert run_a.acquire_run_lock(org, A, TTL_S) is None  # A's next run does not start

    assert run_b.holds(fence_b)
    assert run_b.claim(fence_b, pending(org, 1)).claim_epoch == fence_b.epoch
    run_b.release_run_lock(org, B)


# ---- PostgreSQL: a claim in flight cannot be missed by the next run ---------------------------------------------


@pytest.mark.postgres
def test_the_next_runs_epoch_waits_for_a_claim_in_flight_and_then_sees_it(org: int) -> None:
    """A's claim has passed its fence check (its UPDATE of the fence row) but not committed when A's lock connection
    dies and B takes the lock. B's epoch raise must wait for A's claim to commit, and B must then see the claim:
    otherwise B could read the records without it and send the same create."""
    with postgres_engine() as engine_a:
        upgrade_database(engine_a)
        engine_b = make_engine(engine_a.url)
        run_a, run_b = SqlStateStore(engine_a), SqlStateStore(engine_b)
        checked, go_on = threading.Event(), threading.Event()
        claim_backend: list[int] = []

        def pause_after_the_fence_check(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            # The claim's first statement on the fence row is its check (however it is written); A stops there.
            if "procountor_fences" in statement.lower() and not checked.is_set():
                claim_backend.append(conn.connection.dbapi_connection.info.backend_pid)
                checked.set()
                assert go_on.wait(30), "the test never let A's claim go on"

        fence_a = take(run_a, org, A)
        event.listen(engine_a, "after_cursor_execute", pause_after_the_fence_check)
        a_result: dict[str, object] = {}
        b_result: dict[str, object] = {}
        threads: list[threading.Thread] = []
        try:
            threads.append(_thread(lambda: a_result.update(record=run_a.claim(fence_a, pending(org, 1)))))
            assert checked.wait(10), "A's claim never checked its fence"

            kill_lock_holder(engine_b, org)  # A's lock connection dies; its claim transaction is another one
            threads.append(_thread(lambda: b_result.update(fence=run_b.acquire_run_lock(org, B, TTL_S))))
            _wait_until_blocked_by(engine_b, claim_backend[0])

            assert threads[1].is_alive() and not b_result  # B's epoch raise waits for A's claim
            go_on.set()
            for thread in threads:
                thread.join(10)

            claimed, fence_b = a_result["record"], b_result["fence"]
            assert isinstance(claimed, Record) and claimed.claim_epoch == fence_a.epoch
            assert isinstance(fence_b, Fence) and fence_b.epoch == fence_a.epoch + 1
            assert run_b.records(org, EntityKind.TASK) == {1: claimed}  # B sees A's claim and looks it up first
            with pytest.raises(LockLost):
                run_a.claim(fence_a, pending(org, 2))
            assert not run_a.holds(fence_a) and run_b.holds(fence_b)
            run_b.release_run_lock(org, B)
        finally:
            go_on.set()
            for thread in threads:
                thread.join(10)
            event.remove(engine_a, "after_cursor_execute", pause_after_the_fence_check)
            engine_b.dispose()


def _thread(work: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def _wait_until_blocked_by(engine: Engine, pid: int) -> None:
    """Returns once some backend waits for a lock `pid` holds (fails after 10 s).

    Asks `pg_locks`, which is read live; `pg_stat_activity` is a snapshot taken once per transaction.
    """
    blocked = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND :pid = ANY(pg_blocking_pids(pid))")
    deadline = time.monotonic() + 10
    with engine.connect() as conn:
        while not conn.execute(blocked, {"pid": pid}).scalar_one():
            if time.monotonic() > deadline:
                pytest.fail(f"nothing waited for backend {pid}'s claim")
            time.sleep(0.02)

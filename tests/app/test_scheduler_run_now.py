"""Run now: the admin asks for a run of a tenant; it starts at once, or right after the one under way, once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from spotilla_procountor.adapters.scheduler import TenantScheduler
from spotilla_procountor.domain.state import RunStatus
from spotilla_procountor.domain.sync import SyncReport

HOURS = 600  # the interval: no scheduled run but the first happens during a test


def wait_for(condition: Callable[[], object], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


class RecordingSync:
    """The tenant runs, recorded as (organization, when it started); a run of a held tenant waits for `release`."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, datetime]] = []
        self.held: set[int] = set()
        self.release = threading.Event()
        self.running = threading.Event()

    def __call__(self, organization_id: int) -> SyncReport:
        self.runs.append((organization_id, datetime.now(UTC)))
        if organization_id in self.held:
            self.running.set()
            self.release.wait(timeout=10)
        return SyncReport(organization_id, RunStatus.SUCCEEDED)

    def count(self, organization_id: int) -> int:
        return sum(1 for org, _ in self.runs if org == organization_id)


@pytest.fixture
def sync() -> Iterator[RecordingSync]:
    recording = RecordingSync()
    yield recording
    recording.release.set()


@pytest.fixture
def scheduler_of(sync: RecordingSync) -> Iterator[Callable[[list[int]], TenantScheduler]]:
    started: list[TenantScheduler] = []

    def start(enabled: list[int]) -> TenantScheduler:
        scheduler = TenantScheduler(
            sync_tenant=sync, enabled_tenants=lambda: list(enabled), interval_minutes=HOURS * 60, concurrency=2
        )
        scheduler.start()
        started.append(scheduler)
        return scheduler

    yield start
    sync.release.set()
    for scheduler in started:
        if scheduler.health().running:
            scheduler.shutdown()


def idle(scheduler: TenantScheduler, org: int) -> bool:
    attempts = scheduler.health().tenants.get(org)
    return attempts is not None and attempts.last_finished_at is not None and attempts.running_since is None


def test_a_run_asked_for_while_the_tenant_is_idle_starts_within_a_second(
    sync: RecordingSync, scheduler_of: Callable[[list[int]], TenantScheduler]
) -> None:
    scheduler = scheduler_of([1])
    wait_for(lambda: idle(scheduler, 1))  # the first run, right after the start
    assert sync.count(1) == 1

    assert scheduler.request_run(1) is True
    wait_for(lambda: sync.count(1) == 2, seconds=1)
    wait_for(lambda: not scheduler.queued(1))


def test_a_second_request_while_one_is_queued_is_refused_and_runs_nothing_more(
    sync: RecordingSync, scheduler_of: Callable[[list[int]], TenantScheduler]
) -> None:
    sync.held.add(1)
    scheduler = scheduler_of([1])
    assert sync.running.wait(timeout=5)  # the first run is under way and waits

    assert scheduler.request_run(1) is True
    assert scheduler.queued(1)
    assert scheduler.request_run(1) is False, "a second run was queued: one queued run per tenant"
    sync.held.clear()
    sync.release.set()

    wait_for(lambda: sync.count(1) == 2 and idle(scheduler, 1))
    time.sleep(0.2)  # a refused request must not start a third run later
    assert sync.count(1) == 2
    assert not scheduler.queued(1)
    assert scheduler.request_run(1) is True, "once the queued run started, a new one may be asked for"
    wait_for(lambda: sync.count(1) == 3)


def test_a_run_asked_for_during_a_run_starts_right_after_it_ends(
    sync: RecordingSync, scheduler_of: Callable[[list[int]], TenantScheduler]
) -> None:
    sync.held.add(1)
    scheduler = scheduler_of([1])
    assert sync.running.wait(timeout=5)

    assert scheduler.request_run(1) is True
    time.sleep(0.2)
    assert sync.count(1) == 1, "the asked-for run overlapped the one under way"
    assert scheduler.queued(1)
    sync.held.clear()
    sync.release.set()

    wait_for(lambda: sync.count(1) == 2, seconds=2)
    wait_for(lambda: idle(scheduler, 1))
    assert not scheduler.queued(1)
    assert scheduler.health().tenants[1].last_status == "SUCCEEDED"


def test_a_tenant_that_is_switched_off_or_unknown_gets_no_run(
    sync: RecordingSync, scheduler_of: Callable[[list[int]], TenantScheduler]
) -> None:
    enabled = [1]
    scheduler = scheduler_of(enabled)
    wait_for(lambda: idle(scheduler, 1))

    assert scheduler.request_run(99) is None
    enabled.clear()  # switched off; the scheduler has not read the tenant list since
    assert scheduler.request_run(1) is None
    assert scheduler.next_run_at(1) is None
    time.sleep(0.2)
    assert sync.count(1) == 1 and sync.count(99) == 0
    assert not scheduler.queued(1) and not scheduler.queued(99)


def test_a_tenant_switched_on_after_the_start_is_picked_up_by_a_request(
    sync: RecordingSync, scheduler_of: Callable[[list[int]], TenantScheduler]
) -> None:
    enabled = [1]
    scheduler = scheduler_of(enabled)
    wait_for(lambda: idle(scheduler, 1))
    enabled.append(2)  # the tenant list is read again only in a minute

    assert scheduler.request_run(2) is True
    wait_for(lambda: sync.count(2) >= 1, seconds=2)
    wait_for(lambda: idle(scheduler, 2))
    time.sleep(0.3)  # room for a second run, which must not come: the first run is the one asked for
    assert sync.count(2) == 1
    assert not scheduler.queued(2)


def test_a_run_now_moves_the_next_scheduled_run_an_interval_on(
    sync: RecordingSync, scheduler_of: Callable[[list[int]], TenantScheduler]
) -> None:
    scheduler = scheduler_of([1])
    wait_for(lambda: idle(scheduler, 1))
    before = scheduler.next_run_at(1)
    assert before is not None and before.tzinfo is not None
    assert before - datetime.now(UTC) > timedelta(hours=HOURS - 1)

    assert scheduler.request_run(1) is True
    wait_for(lambda: sync.count(1) == 2)
    after = scheduler.next_run_at(1)
    assert after is not None and after > before
    assert after - sync.runs[-1][1] == pytest.approx(timedelta(hours=HOURS), abs=timedelta(seconds=1))


def test_no_run_is_asked_for_once_the_scheduler_has_stopped(
    sync: RecordingSync, scheduler_of: Callable[[list[int]], TenantScheduler]
) -> None:
    scheduler = scheduler_of([1])
    wait_for(lambda: idle(scheduler, 1))
    scheduler.shutdown()

    assert scheduler.request_run(1) is None
    assert sync.count(1) == 1


def test_while_the_scheduler_stops_behind_a_run_the_next_run_is_answered_at_once_not_after_the_run(
    sync: RecordingSync, scheduler_of: Callable[[list[int]], TenantScheduler]
) -> None:
    sync.held.add(1)
    scheduler = scheduler_of([1])
    assert sync.running.wait(timeout=5)
    stopping = threading.Thread(target=scheduler.shutdown)  # waits for the held run, holding the job store
    stopping.start()
    wait_for(lambda: not scheduler.health().running or scheduler._stopping)
    time.sleep(0.1)

    asked = time.monotonic()
    assert scheduler.next_run_at(1) is None  # the status page asks this; it must not hang until the run ends
    assert time.monotonic() - asked < 0.5
    sync.release.set()
    stopping.join(timeout=10)
    assert not stopping.is_alive()

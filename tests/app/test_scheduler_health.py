"""What the scheduler remembers for readiness: that it lives, when it read the tenant list, each tenant's attempts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from spotilla_procountor.adapters.scheduler import TenantScheduler
from spotilla_procountor.domain.state import RunStatus
from spotilla_procountor.domain.sync import SyncReport


def wait_for(condition: Callable[[], object], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_an_attempt_that_another_process_s_lock_skipped_still_counts_as_an_attempt_that_ended() -> None:
    scheduler = TenantScheduler(
        sync_tenant=lambda org: SyncReport(org, RunStatus.SKIPPED),
        enabled_tenants=lambda: [5],
        interval_minutes=1,
        concurrency=1,
    )
    assert not scheduler.health().running
    scheduler.start()
    try:
        wait_for(lambda: scheduler.health().tenants.get(5) and scheduler.health().tenants[5].last_finished_at)
        health = scheduler.health()
    finally:
        scheduler.shutdown()
    assert health.running and health.refreshed_at is not None and health.started_at is not None
    attempt = health.tenants[5]
    assert (attempt.last_status, attempt.running_since) == ("SKIPPED", None)
    assert attempt.scheduled_at <= attempt.last_finished_at
    assert not scheduler.health().running


def test_a_run_under_way_is_seen_and_a_crashed_one_ends_as_crashed(release: threading.Event) -> None:
    def sync_tenant(org: int) -> SyncReport:
        if org == 1:
            release.wait()
            return SyncReport(org, RunStatus.SUCCEEDED)
        raise RuntimeError("a bug")

    scheduler = TenantScheduler(
        sync_tenant=sync_tenant, enabled_tenants=lambda: [1, 2], interval_minutes=1, concurrency=2
    )
    scheduler.start()
    try:
        wait_for(lambda: 1 in scheduler.health().tenants and scheduler.health().tenants[1].running_since)
        wait_for(lambda: 2 in scheduler.health().tenants and scheduler.health().tenants[2].last_status)
        assert scheduler.health().tenants[2].last_status == "CRASHED"
        release.set()
        wait_for(lambda: scheduler.health().tenants[1].last_status == "SUCCEEDED")
    finally:
        scheduler.shutdown()


def test_the_tenant_list_is_read_on_time_while_every_worker_is_busy_with_a_run(release: threading.Event) -> None:
    enabled = [1]
    scheduler = TenantScheduler(
        sync_tenant=lambda org: release.wait(),
        enabled_tenants=lambda: list(enabled),
        interval_minutes=1,
        concurrency=1,
        refresh_seconds=0.2,
    )
    scheduler.start()
    try:
        wait_for(lambda: 1 in scheduler.health().tenants and scheduler.health().tenants[1].running_since)
        first = scheduler.health().refreshed_at
        enabled.append(2)
        wait_for(lambda: 2 in scheduler.health().tenants, seconds=3)  # scheduled while the one worker is busy
        assert scheduler.health().refreshed_at > first
    finally:
        release.set()
        scheduler.shutdown()


def test_a_stop_while_the_tenant_list_is_being_read_waits_for_the_read_and_does_not_hang() -> None:
    reading, release = threading.Event(), threading.Event()
    calls = []

    def enabled_tenants() -> list[int]:
        calls.append(1)
        if len(calls) == 2:  # the second read is slow, as when the database takes its time
            reading.set()
            release.wait(timeout=10)
        return []

    scheduler = TenantScheduler(
        sync_tenant=lambda org: None,
        enabled_tenants=enabled_tenants,
        interval_minutes=1,
        concurrency=1,
        refresh_seconds=0.1,
    )
    scheduler.start()
    assert reading.wait(timeout=5)
    stopping = threading.Thread(target=scheduler.shutdown)
    stopping.start()
    time.sleep(0.2)
    release.set()
    stopping.join(timeout=5)
    assert not stopping.is_alive(), "the scheduler hung on its way down"
    assert not scheduler.health().running


def test_a_tenant_switched_off_while_its_run_goes_on_is_not_brought_back_when_the_run_ends(
    release: threading.Event,
) -> None:
    enabled = [7]
    scheduler = TenantScheduler(
        sync_tenant=lambda org: release.wait() and SyncReport(org, RunStatus.SUCCEEDED),
        enabled_tenants=lambda: list(enabled),
        interval_minutes=1,
        concurrency=1,
    )
    scheduler.start()
    try:
        wait_for(lambda: scheduler.health().tenants.get(7) and scheduler.health().tenants[7].running_since)
        enabled.clear()  # switched off while its run goes on
        scheduler.refresh()
        assert 7 not in scheduler.health().tenants
        release.set()
        time.sleep(0.2)  # the run ends and notes its end
        assert 7 not in scheduler.health().tenants, "a switched-off tenant came back (its metrics would stay forever)"
    finally:
        release.set()
        scheduler.shutdown()

"""When the `run` service says it is not ready, and the words it uses: rules over plain data, no clock of its own."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dbutil import sqlite_engine
from spotilla_procountor.adapters.scheduler import SchedulerHealth, TenantAttempts
from spotilla_procountor.adapters.spotilla_sql.health_queries import SqlHealthQueries, TenantHealth
from spotilla_procountor.app.health import ServiceHealth, readiness_reasons
from spotilla_procountor.domain.state import RunStatus

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=30)
LONG_AGO = NOW - timedelta(days=30)
ORG = 42


def scheduler(
    tenants: dict[int, TenantAttempts] | None = None,
    *,
    started: datetime = LONG_AGO,
    refreshed: datetime | None = NOW - timedelta(seconds=20),
    running: bool = True,
) -> SchedulerHealth:
    return SchedulerHealth(
        running=running, started_at=started, refreshed_at=refreshed, refresh_seconds=60, tenants=tenants or {}
    )


def attempts(*, finished_minutes_ago: float | None = None, running_minutes: float | None = None) -> TenantAttempts:
    return TenantAttempts(
        scheduled_at=LONG_AGO,
        running_since=None if running_minutes is None else NOW - timedelta(minutes=running_minutes),
        last_finished_at=None if finished_minutes_ago is None else NOW - timedelta(minutes=finished_minutes_ago),
        last_status="SKIPPED",
    )


def tenant(**fields: object) -> TenantHealth:
    return TenantHealth(**({"organization_id": ORG, "enabled_since": LONG_AGO} | fields))  # type: ignore[arg-type]


def reasons(sched: SchedulerHealth, tenants: list[TenantHealth] | None = None, **flags: object) -> list[str]:
    return readiness_reasons(
        now=NOW,
        interval=INTERVAL,
        scheduler=sched,
        tenants=[tenant()] if tenants is None else tenants,
        database_problem=flags.get("database_problem"),  # type: ignore[arg-type]
        stopping=bool(flags.get("stopping")),
    )


def test_a_tenant_whose_attempt_ended_within_two_intervals_is_fine_even_if_it_was_skipped() -> None:
    assert reasons(scheduler({ORG: attempts(finished_minutes_ago=59)})) == []


def test_a_tenant_with_no_attempt_ended_for_more_than_two_intervals_is_overdue() -> None:
    [reason] = reasons(scheduler({ORG: attempts(finished_minutes_ago=61)}))
    assert reason.startswith(f"organization {ORG}: no run of it has ended for 61 min, more than two intervals (60 min)")
    assert "TENANT_CONCURRENCY" in reason


def test_a_run_under_way_for_less_than_two_intervals_is_fine_though_the_last_one_ended_long_ago() -> None:
    assert reasons(scheduler({ORG: attempts(finished_minutes_ago=200, running_minutes=50)})) == []


def test_a_run_under_way_for_more_than_two_intervals_is_stuck() -> None:
    [reason] = reasons(scheduler({ORG: attempts(finished_minutes_ago=70, running_minutes=65)}))
    assert reason.startswith(f"organization {ORG}: a run has been going on for 65 min")
    assert f"status --organization {ORG}" in reason


def test_a_run_of_another_process_stuck_in_the_run_log_counts_too() -> None:
    stuck = tenant(latest_run_status=RunStatus.RUNNING, latest_run_started_at=NOW - timedelta(hours=3))
    [reason] = reasons(scheduler({ORG: attempts(finished_minutes_ago=1)}), [stuck])
    assert "a run has been going on for 3 h 0 min" in reason


def test_a_tenant_switched_on_a_moment_ago_is_not_overdue_though_not_yet_scheduled() -> None:
    fresh = tenant(enabled_since=NOW - timedelta(seconds=30))
    assert reasons(scheduler({}), [fresh]) == []


def test_a_tenant_switched_on_but_never_scheduled_is_overdue_after_two_intervals_and_a_tenant_list_refresh() -> None:
    assert reasons(scheduler({}), [tenant(enabled_since=NOW - timedelta(minutes=60, seconds=50))]) == []
    [reason] = reasons(scheduler({}), [tenant(enabled_since=NOW - timedelta(minutes=61, seconds=10))])
    assert reason.startswith(f"organization {ORG}: no run of it has ended for 61 min")


def test_a_service_started_a_moment_ago_is_ready_before_its_first_runs_end() -> None:
    just_started = scheduler({ORG: attempts()}, started=NOW - timedelta(seconds=5), refreshed=None)
    assert reasons(just_started) == []


def test_a_database_that_cannot_be_read_says_what_to_check() -> None:
    [reason] = reasons(scheduler(), tenants=[], database_problem="the database did not answer within 5 s")
    assert reason == (
        "database: the database did not answer within 5 s. Check that the database is up and reachable "
        "(DATABASE_URL) and that its tables are upgraded (`spotilla-procountor db upgrade`)"
    )


def test_a_scheduler_that_stopped_or_stopped_reading_the_tenant_list_is_not_alive() -> None:
    [stopped] = reasons(scheduler(running=False), tenants=[])
    assert stopped.startswith("scheduler: not running")
    [silent] = reasons(scheduler(refreshed=NOW - timedelta(minutes=4)), tenants=[])
    assert silent.startswith("scheduler: it has not read the tenant list for 4 min (it does every 60 s)")


def test_a_stopping_service_is_not_ready_and_every_reason_is_listed() -> None:
    found = reasons(
        scheduler({ORG: attempts(finished_minutes_ago=90)}), stopping=True, database_problem="connection refused"
    )
    assert [r.split(":")[0] for r in found] == [
        "the service is stopping (SIGTERM or Ctrl-C)",
        "database",
        f"organization {ORG}",
    ]


class IdleScheduler:
    """A scheduler that started a moment ago and has nothing to run."""

    def health(self) -> SchedulerHealth:
        now = datetime.now(UTC)
        return scheduler(started=now, refreshed=now)


class SlowQueries:
    """A database that takes its time to answer."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.reads = 0

    def enabled_tenants(self) -> list[TenantHealth]:
        self.reads += 1
        time.sleep(self.seconds)
        return []


def test_a_database_that_does_not_answer_makes_the_probe_say_so_within_its_timeout_and_reads_pile_up_not() -> None:
    database = SlowQueries(3)
    health = ServiceHealth(
        queries=database,  # type: ignore[arg-type]
        scheduler=IdleScheduler(),
        interval=INTERVAL,
        stopping=threading.Event(),
        timeout_s=0.2,
    )
    started = time.monotonic()
    try:
        answers = [health.reasons() for _ in range(4)]
    finally:
        health.close()
    assert time.monotonic() - started < 2
    for [reason] in answers:
        assert reason.startswith("database: the database did not answer within 0.2 s. Check that the database is up")
    assert database.reads == 1  # the later probes waited for the read still under way


def test_a_database_without_the_integration_s_tables_is_not_ready_and_says_which_is_missing(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)  # never upgraded, as a mistyped SQLite path would be
    health = ServiceHealth(
        queries=SqlHealthQueries(engine), scheduler=IdleScheduler(), interval=INTERVAL, stopping=threading.Event()
    )
    try:
        [reason] = health.reasons()
        assert health.reading().snapshot is None
    finally:
        health.close()
        engine.dispose()
    assert reason.startswith(
        "database: Database error while reading the tenants' health: OperationalError: no such table"
    )
    assert reason.endswith("(`spotilla-procountor db upgrade`)")

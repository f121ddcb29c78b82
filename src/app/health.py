"""Readiness of the `run` service: the database answers, the scheduler lives, no enabled tenant is overdue.

A tenant is overdue when no attempt of this process's scheduler has ended for more than two intervals (any ending
counts, SKIPPED too: another process ran it, or a back-off held it), or when a run of it has been going on for
more than two intervals (stuck). A tenant switched on a moment ago is not overdue: the clock starts when it was
switched on (or last changed), when the service started, or at its last attempt, whichever is latest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from spotilla_procountor.adapters.scheduler import SchedulerHealth, TenantAttempts
from spotilla_procountor.adapters.spotilla_sql.health_queries import HealthSnapshot, SqlHealthQueries, TenantHealth
from spotilla_procountor.domain.errors import IntegrationError
from spotilla_procountor.domain.state import RunStatus

OVERDUE_INTERVALS = 2
SCHEDULER_SILENT_REFRESHES = 3  # the tenant list unread this many refresh periods: the scheduler is stuck
DATABASE_TIMEOUT_S = 5.0
T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SchedulerView(Protocol):
    def health(self) -> SchedulerHealth: ...


@dataclass(frozen=True, slots=True)
class HealthReading:
    """One look at the service for the metrics scrape: readiness and what the database holds now."""

    now: datetime
    reasons: list[str]
    snapshot: HealthSnapshot | None
    """None when the database could not be read."""
    scheduler: SchedulerHealth


class ServiceHealth:
    """The readiness probe of `/readyz` and the source of the metrics read at scrape time.

    Database reads run on a small pool of their own and are given up after `timeout_s`, so a database that does
    not answer makes the service not ready within seconds instead of hanging the probe.
    """

    def __init__(
        self,
        *,
        queries: SqlHealthQueries,
        scheduler: SchedulerView,
        interval: timedelta,
        stopping: threading.Event,
        now: Callable[[], datetime] = _utc_now,
        timeout_s: float = DATABASE_TIMEOUT_S,
    ) -> None:
        self._queries = queries
        self._scheduler = scheduler
        self._interval = interval
        self._stopping = stopping
        self._now = now
        self._timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")
        self._pending: dict[str, Future] = {}
        self._lock = threading.Lock()

    def reasons(self) -> list[str]:
        """Why the service is not ready; empty when it is (one statement)."""
        tenants, problem = self._read(self._queries.enabled_tenants)
        return self._reasons(tenants, problem, self._now())

    def reading(self) -> HealthReading:
        """Readiness and the tenants' runs and open items (two statements)."""
        now = self._now()
        snapshot, problem = self._read(self._queries.snapshot)
        reasons = self._reasons(snapshot.tenants if snapshot else None, problem, now)
        return HealthReading(now, reasons, snapshot, self._scheduler.health())

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _reasons(self, tenants: Sequence[TenantHealth] | None, problem: str | None, now: datetime) -> list[str]:
        return readiness_reasons(
            now=now,
            interval=self._interval,
            scheduler=self._scheduler.health(),
            tenants=tenants,
            database_problem=problem,
            stopping=self._stopping.is_set(),
        )

    def _read(self, query: Callable[[], T]) -> tuple[T | None, str | None]:
        """The query's answer, or why there is none. While a read of the same query still hangs, later probes wait
        for that one instead of queueing more behind it (which would all run at once when the database is back)."""
        with self._lock:
            future = self._pending.get(query.__name__)
            if future is None or future.done():
                future = self._pending[query.__name__] = self._pool.submit(query)
        try:
            return future.result(timeout=self._timeout_s), None
        except FutureTimeout:
            return None, f"the database did not answer within {self._timeout_s:g} s"
        except IntegrationError as exc:
            return None, " ".join(str(exc).split())[:400]


def readiness_reasons(
    *,
    now: datetime,
    interval: timedelta,
    scheduler: SchedulerHealth,
    tenants: Sequence[TenantHealth] | None,
    database_problem: str | None,
    stopping: bool,
) -> list[str]:
    """Every reason the service is not ready, each a sentence a person can act on; empty when it is ready."""
    reasons: list[str] = []
    if stopping:
        reasons.append("the service is stopping (SIGTERM or Ctrl-C): runs under way finish their items first")
    if database_problem is not None:
        reasons.append(
            f"database: {database_problem}. Check that the database is up and reachable (DATABASE_URL) and that "
            "its tables are upgraded (`spotilla-procountor db upgrade`)"
        )
    reasons += _scheduler_reasons(now, scheduler)
    for tenant in tenants or ():
        reason = _overdue(now, interval, scheduler, tenant)
        if reason is not None:
            reasons.append(reason)
    return reasons


def _scheduler_reasons(now: datetime, scheduler: SchedulerHealth) -> list[str]:
    if not scheduler.running:
        return ["scheduler: not running, so no tenant is synced; restart the service (see the service log)"]
    last_sign = max(filter(None, (scheduler.refreshed_at, scheduler.started_at)), default=None)
    silent = SCHEDULER_SILENT_REFRESHES * scheduler.refresh_seconds
    if last_sign is not None and (now - last_sign).total_seconds() > silent:
        return [
            f"scheduler: it has not read the tenant list for {_span(now - last_sign)} (it does every "
            f"{_span(timedelta(seconds=scheduler.refresh_seconds))}); it seems stuck: restart the service "
            "(see the service log)"
        ]
    return []


def _overdue(now: datetime, interval: timedelta, scheduler: SchedulerHealth, tenant: TenantHealth) -> str | None:
    org, limit = tenant.organization_id, OVERDUE_INTERVALS * interval
    attempts: TenantAttempts | None = scheduler.tenants.get(org)
    running_since = attempts.running_since if attempts else None
    if running_since is None and tenant.latest_run_status == RunStatus.RUNNING:  # perhaps in another process
        running_since = tenant.latest_run_started_at
    if running_since is not None and now - running_since > limit:
        return (
            f"organization {org}: a run has been going on for {_span(now - running_since)}, more than two "
            f"intervals ({_span(limit)}); it may be stuck waiting for Procountor or the database: see the service "
            f"log and `spotilla-procountor status --organization {org}`"
        )
    if attempts is not None and attempts.running_since is not None:
        return None  # under way, and not for long
    since = [scheduler.started_at, tenant.enabled_since, attempts.last_finished_at if attempts else None]
    start = max(filter(None, since), default=None)
    allowed = limit if attempts is not None else limit + timedelta(seconds=scheduler.refresh_seconds)
    if start is None or now - start <= allowed:
        return None
    return (
        f"organization {org}: no run of it has ended for {_span(now - start)}, more than two intervals "
        f"({_span(limit)}); the service may have too few workers for its tenants (TENANT_CONCURRENCY) or be stuck: "
        "see the service log"
    )


def _span(duration: timedelta) -> str:
    """A duration in words a person reads at a glance: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    seconds = int(duration.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 2:
        return f"{minutes} min"
    if days < 2:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"

"""The embedded scheduler: every enabled tenant every interval, 24/7, with APScheduler.

Within a process a tenant's job has max_instances=1, so its runs never overlap; across processes the
tenant's run lock (in the database) does the same. Missed ticks coalesce into one run. A run asked for now (the
admin page's Run now) is queued, at most one per tenant. The scheduler keeps, in memory, when it last looked at
the tenant list and each tenant's attempts: readiness and metrics read them.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("spotilla_procountor.scheduler")
REFRESH_JOB = "refresh-tenants"
REFRESH_EXECUTOR = "refresh"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TenantAttempts:
    """What this process's scheduler did for one tenant: when it scheduled it, and its attempts to run it."""

    scheduled_at: datetime
    running_since: datetime | None = None
    """When the attempt under way started; None when none is."""
    last_finished_at: datetime | None = None
    """When the newest attempt ended, however it ended (also SKIPPED: another process ran the tenant)."""
    last_status: str | None = None


@dataclass(frozen=True, slots=True)
class SchedulerHealth:
    """A moment's view of the scheduler, for readiness."""

    running: bool
    started_at: datetime | None
    refreshed_at: datetime | None
    """When the scheduler last began to read the tenant list (every `refresh_seconds`)."""
    refresh_seconds: float
    tenants: Mapping[int, TenantAttempts]


class TenantScheduler:
    """Keeps one interval job per enabled tenant; the tenant list is re-read every minute."""

    def __init__(
        self,
        *,
        sync_tenant: Callable[[int], object],
        enabled_tenants: Callable[[], Iterable[int]],
        interval_minutes: float,
        concurrency: int,
        refresh_seconds: float = 60,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sync_tenant = sync_tenant
        self._enabled_tenants = enabled_tenants
        self._interval = IntervalTrigger(seconds=interval_minutes * 60)
        self._refresh_seconds = refresh_seconds
        self._now = now
        self._scheduler = BackgroundScheduler(
            # The tenant list is read on a thread of its own: tenants' runs filling every worker must not hold up
            # the tenants switched on meanwhile, nor make the scheduler look dead.
            executors={
                "default": ThreadPoolExecutor(max_workers=concurrency),
                REFRESH_EXECUTOR: ThreadPoolExecutor(max_workers=1),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._stopping = False
        self._started_at: datetime | None = None
        self._refreshed_at: datetime | None = None
        self._attempts: dict[int, TenantAttempts] = {}
        self._queued: set[int] = set()
        """Tenants with a run asked for now that has not started yet."""

    def start(self) -> None:
        """Starts the jobs; every tenant's first run is right away."""
        self._scheduler.add_job(
            self.refresh,
            IntervalTrigger(seconds=self._refresh_seconds),
            id=REFRESH_JOB,
            next_run_time=datetime.now(UTC),
            executor=REFRESH_EXECUTOR,
        )
        self._started_at = self._now()
        self._scheduler.start()

    def refresh(self) -> None:
        """Adds jobs for tenants switched on, removes those switched off; nothing once shutting down.

        APScheduler's shutdown holds its job-store lock while it waits for running jobs, and a refresh needs that
        lock (get_jobs, add_job): a refresh under way at shutdown would wait for it forever. So `shutdown()` lets
        a refresh under way finish first, and later ones see the stop and do nothing.
        """
        with self._refreshing:
            if self._stopping:
                return
            self._refreshed_at = self._now()  # before reading: a database that is away is not a dead scheduler
            self._refresh()

    def _refresh(self) -> None:
        wanted = {f"tenant-{org}": org for org in self._enabled_tenants()}
        existing = {job.id for job in self._scheduler.get_jobs() if job.id != REFRESH_JOB}
        for job_id in existing - wanted.keys():
            self._scheduler.remove_job(job_id)
            with self._lock:
                self._attempts.pop(int(job_id.removeprefix("tenant-")), None)
                self._queued.discard(int(job_id.removeprefix("tenant-")))
            log.info("tenant unscheduled", extra={"job": job_id})
        for job_id in wanted.keys() - existing:
            org = wanted[job_id]
            with self._lock:
                self._attempts[org] = TenantAttempts(scheduled_at=self._now())
            self._scheduler.add_job(
                self._safe_sync, self._interval, args=[org], id=job_id, next_run_time=datetime.now(UTC)
            )
            log.info("tenant scheduled", extra={"organization_id": org})

    def _safe_sync(self, organization_id: int) -> None:
        """One run, and then one more at once if a run was asked for meanwhile (APScheduler would drop it)."""
        self._starting(organization_id)
        again = True
        while again:
            status = "CRASHED"
            try:
                status = str(getattr(self._sync_tenant(organization_id), "status", None))
            except Exception:  # one tenant's trouble must not kill its schedule
                log.exception("tenant run crashed", extra={"organization_id": organization_id})
            finally:
                again = self._ended(organization_id, status)

    def _starting(self, organization_id: int) -> None:
        with self._lock:
            self._queued.discard(organization_id)  # this run is the one asked for
            self._note(organization_id, running_since=self._now())

    def _ended(self, organization_id: int, status: str) -> bool:
        """Notes the run's end; True when a run asked for meanwhile starts now (not once stopping)."""
        with self._lock:  # as one step with `request_run`'s look: a request is seen here, or starts a run itself
            again = organization_id in self._queued and not self._stopping
            self._queued.discard(organization_id)
            now = self._now()
            self._note(organization_id, running_since=now if again else None, last_finished_at=now, last_status=status)
        return again

    def _note(self, organization_id: int, **changes: object) -> None:
        """Under `self._lock`: changes the tenant's attempts."""
        known = self._attempts.get(organization_id)
        if known is not None:  # a tenant unscheduled while its run went on is not brought back by its end
            self._attempts[organization_id] = replace(known, **changes)  # type: ignore[arg-type]

    def request_run(self, organization_id: int) -> bool | None:
        """Queues one run of the tenant now: True when queued; False when one asked for so has not started yet (one
        queued run per tenant); None when the tenant is not scheduled here (switched off, or unknown).

        The tenant list is read first (a click is rare, the read one statement): a tenant switched on a moment ago
        runs, one switched off gets None rather than a run that would only be skipped. A run asked for while one is
        under way starts right after it ends.
        """
        job_id = f"tenant-{organization_id}"
        if not self._scheduler.running:
            return None
        with self._lock:
            scheduled_before = organization_id in self._attempts
        self.refresh()
        if self._scheduler.get_job(job_id) is None:
            return None
        if not scheduled_before:  # scheduled by this very read: its first run starts now, and is the one asked for
            log.info("run requested", extra={"organization_id": organization_id})
            return True
        with self._lock:
            if organization_id in self._queued:
                return False
            self._queued.add(organization_id)
            known = self._attempts.get(organization_id)
            running = known is not None and known.running_since is not None
        if not running:  # (outside the lock: APScheduler's own lock may wait for a run, which needs ours to end)
            try:
                self._scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
            except JobLookupError:  # switched off this instant
                with self._lock:
                    self._queued.discard(organization_id)
                return None
        log.info("run requested", extra={"organization_id": organization_id})
        return True

    def queued(self, organization_id: int) -> bool:
        """Whether a run asked for with `request_run` has not started yet."""
        with self._lock:
            return organization_id in self._queued

    def next_run_at(self, organization_id: int) -> datetime | None:
        """When the tenant's next scheduled run starts (UTC); None when it is not scheduled here, or the scheduler is
        stopping (its shutdown holds the job store until the runs under way end: asking it then would hang)."""
        if self._stopping or not self._scheduler.running:
            return None
        job = self._scheduler.get_job(f"tenant-{organization_id}")
        next_run = getattr(job, "next_run_time", None)
        return next_run.astimezone(UTC) if next_run is not None else None

    def health(self) -> SchedulerHealth:
        """Whether the scheduler runs, when it last read the tenant list, and each tenant's attempts."""
        with self._lock:
            attempts = dict(self._attempts)
        return SchedulerHealth(
            running=self._scheduler.running,
            started_at=self._started_at,
            refreshed_at=self._refreshed_at,
            refresh_seconds=self._refresh_seconds,
            tenants=attempts,
        )

    def shutdown(self) -> None:
        """Waits for runs under way (they stop between items) and stops."""
        with self._refreshing:
            self._stopping = True
        self._scheduler.shutdown(wait=True)


def serve_until_signalled(scheduler: TenantScheduler, stop: threading.Event) -> None:
    """Runs until SIGTERM or SIGINT; then in-flight items finish, runs end as INTERRUPTED, and it returns."""

    def on_signal(signum: int, _frame: object) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    log.info("service started")
    while not stop.wait(timeout=1.0):
        pass
    scheduler.shutdown()
    log.info("service stopped")

"""The embedded scheduler: every enabled tenant every interval, 24/7, with APScheduler.

Within a process a tenant's job has max_instances=1, so its runs never overlap; across processes the
tenant's run lock (in the database) does the same. Missed ticks coalesce into one run.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("spotilla_procountor.scheduler")
REFRESH_JOB = "refresh-tenants"


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
    ) -> None:
        self._sync_tenant = sync_tenant
        self._enabled_tenants = enabled_tenants
        self._interval = IntervalTrigger(seconds=interval_minutes * 60)
        self._refresh_seconds = refresh_seconds
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=concurrency)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> None:
        """Starts the jobs; every tenant's first run is right away."""
        self._scheduler.add_job(
            self.refresh,
            IntervalTrigger(seconds=self._refresh_seconds),
            id=REFRESH_JOB,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    def refresh(self) -> None:
        """Adds jobs for tenants switched on, removes those switched off."""
        wanted = {f"tenant-{org}": org for org in self._enabled_tenants()}
        existing = {job.id for job in self._scheduler.get_jobs() if job.id != REFRESH_JOB}
        for job_id in existing - wanted.keys():
            self._scheduler.remove_job(job_id)
            log.info("tenant unscheduled", extra={"job": job_id})
        for job_id in wanted.keys() - existing:
            org = wanted[job_id]
            self._scheduler.add_job(
                self._safe_sync, self._interval, args=[org], id=job_id, next_run_time=datetime.now(UTC)
            )
            log.info("tenant scheduled", extra={"organization_id": org})

    def _safe_sync(self, organization_id: int) -> None:
        try:
            self._sync_tenant(organization_id)
        except Exception:  # one tenant's trouble must not kill its schedule
            log.exception("tenant run crashed", extra={"organization_id": organization_id})

    def shutdown(self) -> None:
        """Waits for runs under way (they stop between items) and stops."""
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

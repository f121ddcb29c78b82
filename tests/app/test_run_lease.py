"""A tenant's run keeps its lock for as long as it runs, however long that is."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pytest

from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.container import build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.errors import RepositoryError
from spotilla_procountor.domain.state import RunStatus

pytestmark = pytest.mark.loopback
LEASE_S = 1.5


def test_a_run_longer_than_its_lease_keeps_the_lock_until_it_ends(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'spotilla.sqlite3'}",
        secret_key=new_key(),
        client_id="demo-client",
        client_secret="demo-secret",
        lock_ttl_s=LEASE_S,
        sync_workers=1,
        _env_file=None,
    )
    container = build_container(settings)
    upgrade_database(container.engine())
    generate_demo_data(container.engine(), organization_id=1, size=DemoSize(customers=10, tasks=30), seed=5)
    fake = FakeProcountor(faults=FaultPlan(latency_ms=200))  # every request slow: the run lasts several leases
    with fake.serve() as served:
        container.tenants().enable(
            1,
            "demo-api-key",
            environment=served.url,
            bank_account="FI4950009420028730",
            tasks_completed_from=date(2000, 1, 1),
        )
        reports = []
        run = threading.Thread(target=lambda: reports.append(container.sync_service().sync(1)))
        run.start()
        time.sleep(2.5 * LEASE_S)
        intruder = SqlStateStore(container.engine())
        still_running = run.is_alive()
        taken_during_run = intruder.acquire_run_lock(1, "other-host:1:1", LEASE_S)
        run.join(timeout=120)
    assert still_running, "the run ended too soon to outlast its lease; make it slower"
    assert reports and reports[0].status == RunStatus.SUCCEEDED
    assert not taken_during_run, "another process got the tenant's lock while its run was going on"
    assert intruder.acquire_run_lock(1, "other-host:1:1", LEASE_S)  # released when the run ended


class FlakyLockStore:
    """A state store whose lock renewals fail as scripted: True/False is the answer, an exception is raised."""

    def __init__(self, *answers: bool | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    def renew_run_lock(self, organization_id: int, holder: str, ttl_s: float) -> bool:
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _keep(store: FlakyLockStore, seconds: float):
    from spotilla_procountor.app.service import _LeaseKeeper

    with _LeaseKeeper(store, 1, "this-host:1:1", 0.3, threading.Event()) as run_stop:
        time.sleep(seconds)
    return run_stop


def test_a_renewal_that_fails_once_is_tried_again_and_the_run_goes_on() -> None:
    store = FlakyLockStore(RepositoryError("database is locked"), True)

    run_stop = _keep(store, 0.8)

    assert not run_stop.is_set()
    assert store.calls >= 3  # the failure, then renewals every third of the lease


def test_a_run_whose_lock_cannot_be_renewed_stops_before_the_lease_runs_out() -> None:
    store = FlakyLockStore(RepositoryError("connection refused"))

    run_stop = _keep(store, 0.6)

    assert run_stop.is_set()
    assert "could not renew its lock" in (run_stop.failure or "")
    assert "connection refused" in (run_stop.failure or "")


def test_a_run_that_lost_its_lock_stops() -> None:
    run_stop = _keep(FlakyLockStore(False), 0.3)

    assert run_stop.is_set()
    assert "lost its lock" in (run_stop.failure or "")

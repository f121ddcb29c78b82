"""A tenant's run keeps its lock for as long as it runs, however long that is."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.container import build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.service import Credentials
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.state import RunStatus

pytestmark = pytest.mark.loopback
LEASE_S = 1.5


def test_a_run_longer_than_its_lease_keeps_the_lock_until_it_ends(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'spotilla.sqlite3'}",
        secret_key=new_key(),
        lock_ttl_s=LEASE_S,
        sync_workers=1,
        _env_file=None,
    )
    container = build_container(settings)
    upgrade_database(container.engine())
    generate_demo_data(container.engine(), organization_id=1, size=DemoSize(customers=10, tasks=30), seed=5)
    fake = FakeProcountor(faults=FaultPlan(latency_ms=200))  # every request slow: the run lasts several leases
    with fake.serve() as served:
        container.tenants().enable(1, Credentials("demo-client", "demo-secret", "demo-api-key"), environment=served.url)
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

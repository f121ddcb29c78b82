"""Runs say what happened: `sync` exit codes, PARTIAL and FAILED runs, and `status --check` for monitoring.

Through the command line, against a real SQLite file and the fake Procountor served on loopback.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from test_cli import enable, invoke, seeded

from spotilla_procountor.adapters.procountor_fake import FaultPlan
from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.container import build_container
from spotilla_procountor.domain.state import RunStatus

pytestmark = pytest.mark.loopback
INVOICE_CREATE = "POST /invoices"


def runs(database: Path) -> list:
    return SqlStateStore(make_engine(f"sqlite:///{database}")).runs(1, limit=100)


def test_a_clean_run_exits_zero_and_the_check_says_ok(env: Path, procountor) -> None:
    seeded(env)
    assert enable(procountor[1])[0] == 0
    code, output = invoke("sync", "-o", "1")
    assert code == 0, output
    code, output = invoke("status", "--check")
    assert code == 0, output
    assert output.startswith("Organization 1: OK (last successful run ")


def test_every_invoice_create_answered_500_is_not_a_success(env: Path, procountor) -> None:
    fake, url = procountor
    seeded(env)
    assert enable(url)[0] == 0
    fake.set_faults(FaultPlan(error_rate={INVOICE_CREATE: 1.0}))
    code, output = invoke("sync", "-o", "1")
    assert code in (1, 3), output
    assert not fake.invoices()
    assert runs(env)[0].status in (RunStatus.PARTIAL, RunStatus.FAILED)
    assert " WARNING run finished " in output or " ERROR run finished " in output
    code, output = invoke("status", "--check")
    assert code == 1, output
    assert "NEEDS ATTENTION" in output


def test_a_refused_invoice_makes_the_run_partial_exit_3_and_is_logged(env: Path, procountor) -> None:
    fake, url = procountor
    seeded(env)
    assert enable(url)[0] == 0
    fake.set_faults(FaultPlan())
    _long_order_number(env)  # longer than Procountor allows: refused for exactly this data
    code, output = invoke("sync", "-o", "1")
    assert code == 3, output
    assert runs(env)[0].status == RunStatus.PARTIAL
    assert "item(s) failed" in (runs(env)[0].error or "")
    assert " WARNING item failed: Procountor refused it: orderReference" in output
    assert re.search(r" WARNING run finished .*status=PARTIAL", output)
    code, output = invoke("status", "--check")
    assert code == 1
    assert "1 item(s) failed" in output and "retry -o 1 --all-failed" in output


def test_a_run_that_cannot_log_in_exits_1_and_is_failed(env: Path, procountor) -> None:
    fake, url = procountor
    seeded(env)
    assert enable(url)[0] == 0
    fake.credentials = replace(fake.credentials, api_key="another-key")  # the organization revoked its key
    code, output = invoke("sync", "-o", "1")
    assert code == 1, output
    latest = runs(env)[0]
    assert latest.status == RunStatus.FAILED and "refused the tenant's credentials" in (latest.error or "")
    code, output = invoke("status", "--check")
    assert code == 1 and "the last run" in output and "failed" in output


def test_usage_errors_exit_2(env: Path, procountor) -> None:
    seeded(env)
    assert invoke("sync", "-o", "99")[0] == 2  # never switched on
    assert invoke("status", "--check", "-o", "99")[0] == 2
    assert enable(procountor[1])[0] == 0
    assert invoke("tenants", "disable", "1")[0] == 0
    code, output = invoke("sync", "-o", "1")
    assert code == 2 and "switched the integration off" in output


def test_the_check_flags_a_tenant_without_a_successful_run_for_too_long(env: Path, procountor) -> None:
    seeded(env)
    assert enable(procountor[1])[0] == 0
    assert invoke("sync", "-o", "1")[0] == 0
    assert invoke("status", "--check")[0] == 0
    with freeze_time(datetime.now(UTC) + timedelta(minutes=91)):  # three 30-minute intervals and a minute
        code, output = invoke("status", "--check")
    assert code == 1, output
    assert "no successful run since" in output
    with freeze_time(datetime.now(UTC) + timedelta(minutes=91)):
        assert invoke("status", "--check", "--stale-after-minutes", "120")[0] == 0


def _long_order_number(database: Path) -> None:
    with sqlite3.connect(database) as conn:
        row = conn.execute("SELECT id FROM tasks WHERE status = 'COMPLETED' ORDER BY id LIMIT 1").fetchone()
        conn.execute("UPDATE tasks SET order_number = ? WHERE id = ?", ("X" * 71, row[0]))


def test_status_says_a_run_is_overdue_instead_of_promising_one(env: Path, procountor) -> None:
    seeded(env)
    assert enable(procountor[1])[0] == 0
    assert invoke("sync", "-o", "1")[0] == 0
    assert "Next scheduled run about" in invoke("status", "-o", "1")[1]
    with freeze_time(datetime.now(UTC) + timedelta(minutes=61)):  # two 30-minute intervals without a run
        code, output = invoke("status", "-o", "1")
    assert code == 0
    assert "Next scheduled run" not in output and "none has started since" in output


def test_a_run_queued_when_the_service_is_asked_to_stop_does_not_start(env: Path, procountor) -> None:
    """SIGTERM: the scheduler's pool still starts the runs queued behind busy workers; they must send nothing."""
    fake, url = procountor
    seeded(env)
    assert enable(url)[0] == 0
    service = build_container().sync_service()
    service.stop.set()
    asked = len(fake.request_log)
    report = service.sync(1)
    assert report.status == RunStatus.SKIPPED and "stopping" in (report.error or "")
    assert len(fake.request_log) == asked and runs(env) == []

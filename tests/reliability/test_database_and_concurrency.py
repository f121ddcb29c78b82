"""The database connection dropped mid-run, and five processes syncing one tenant at once."""

from __future__ import annotations

import itertools

import pytest
from harness import scaled, wait_until
from sqlalchemy import text

from dbutil import postgres_engine
from spotilla_procountor.adapters.procountor_fake import FaultPlan
from spotilla_procountor.domain.state import RunStatus

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.loopback, pytest.mark.slow]


def _terminate_backends(application_name: str) -> int:
    """pg_terminate_backend on the service's connections only (other suites share the server)."""
    with postgres_engine() as admin, admin.connect() as conn:
        query = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name"
        terminated = conn.execute(text(query), {"name": application_name}).scalar_one()
        conn.commit()
        return int(terminated)


def test_a_dropped_database_connection_fails_the_run_cleanly_and_the_next_run_completes(make_world, figures):
    world = make_world("postgres")
    world.seed(customers=scaled(4), products=3, tasks=scaled(30))
    world.set_faults(FaultPlan(latency_ms=60))
    process = world.start()
    wait_until(lambda: len(world.fake.invoices()) >= 3, seconds=90)
    terminated = _terminate_backends(world.env["SPOTILLA_RELIABILITY_APP_NAME"])
    code = process.wait(timeout=120)
    world.figures.runs += 1
    output = world.last_output()
    runs = world.state.runs(world.org, limit=10)
    figures.faults = terminated
    figures.notes.append(f"{terminated} backends terminated; exit {code}; run {runs[0].status}: {runs[0].error}")
    assert terminated >= 1
    assert runs[0].status in (RunStatus.FAILED, RunStatus.INTERRUPTED), output[-2000:]
    world.set_faults(FaultPlan())
    world.sync_until_settled()
    world.check_end_state()
    world.assert_quiet_rerun()
    world.assert_no_secret_leaked()
    # Once a bug: the run was recorded as INTERRUPTED with "the service was asked to stop" and the process exited 0,
    # though nobody had asked it to stop: the database connection (and with it the run lock) was lost.
    assert "asked to stop" not in (runs[0].error or ""), f"misleading run error: {runs[0].error}"


def _assert_no_overlapping_runs(runs: list) -> None:
    spans = sorted((r.started_at, r.finished_at) for r in runs)
    assert all(finished is not None for _, finished in spans), "a run was left open"
    for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):
        assert later_start >= earlier_end, "two runs of the tenant overlapped"


@pytest.mark.parametrize("database", ["postgres", "sqlite"])
def test_five_processes_syncing_one_tenant_at_once_never_overlap_or_double(make_world, figures, database):
    world = make_world(database)
    world.set_faults(FaultPlan(latency_ms=5))
    next_task = 1
    for _round in range(3):
        next_task += len(world.seed(customers=2, products=1, tasks=scaled(10), first_task=next_task))
        processes = [world.start() for _ in range(5)]
        codes = [p.wait(timeout=180) for p in processes]
        world.figures.runs += len(processes)
        assert codes == [0] * 5, world.output()[-3000:]
    world.sync_until_settled()
    runs = world.state.runs(world.org, limit=1000)
    figures.notes.append(f"{database}: 15 processes in 3 rounds, {len(runs)} runs recorded, the rest skipped")
    _assert_no_overlapping_runs(runs)
    world.check_end_state()
    world.assert_quiet_rerun()

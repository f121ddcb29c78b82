"""The service as operators run it: `spotilla-procountor run` processes on one PostgreSQL database."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from dbutil import postgres_engine
from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.container import build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.service import Credentials
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.keys import invoice_key
from spotilla_procountor.domain.state import EntityKind, RecordState, RunStatus

pytestmark = [pytest.mark.postgres, pytest.mark.loopback, pytest.mark.slow]
ORG = 1
CANARY = Credentials("svc-client", "svc-secret-7f3e9a1c", "svc-apikey-d41c77b0")


class Service:
    """Everything a test needs: the database, the fake Procountor and a way to start `run` processes."""

    def __init__(self, engine: Engine, fake: FakeProcountor, env: dict[str, str], logs: Path) -> None:
        self.engine, self.fake, self.env, self.logs = engine, fake, env, logs
        self.state = SqlStateStore(engine)
        self.processes: list[subprocess.Popen] = []

    def start(self, **settings: str) -> subprocess.Popen:
        log = (self.logs / f"run-{len(self.processes)}.log").open("w")
        command = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()", "run"]
        env = self.env | {f"SPOTILLA_PROCOUNTOR_{name.upper()}": value for name, value in settings.items()}
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def runs(self) -> list:
        return self.state.runs(ORG, limit=1000)

    def wait_for(self, condition: Callable[[], bool], seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"timed out; runs: {self.runs()}"
            assert all(p.poll() is None for p in self.processes), "a service process died"
            time.sleep(0.2)

    def stop(self, process: subprocess.Popen) -> int:
        """SIGTERM, as systemd sends it (once); returns the exit code."""
        process.send_signal(signal.SIGTERM)
        return self._reap(process)

    def stop_all(self) -> list[int]:
        stopping = list(self.processes)
        for process in stopping:
            process.send_signal(signal.SIGTERM)
        return [self._reap(process) for process in stopping]

    def _reap(self, process: subprocess.Popen) -> int:
        code = process.wait(timeout=60)
        self.processes.remove(process)
        return code

    def log_text(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.logs.glob("run-*.log")))

    def add_work(self, seed: int) -> None:
        generate_demo_data(
            self.engine, organization_id=ORG, size=DemoSize(customers=5, products=3, tasks=15), seed=seed
        )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    fake = FakeProcountor(client_id=CANARY.client_id, client_secret=CANARY.client_secret, api_key=CANARY.api_key)
    with postgres_engine() as engine, fake.serve() as served:
        upgrade_database(engine)
        url = engine.url.render_as_string(hide_password=False)
        settings = Settings(
            database_url=url,
            secret_key=new_key(),
            client_id=CANARY.client_id,
            client_secret=CANARY.client_secret,
            interval_minutes=0.05,
            _env_file=None,
        )
        built = Service(
            engine,
            fake,
            {
                **os.environ,
                "SPOTILLA_PROCOUNTOR_DATABASE_URL": url,
                "SPOTILLA_PROCOUNTOR_SECRET_KEY": settings.secret_key.get_secret_value(),
                "SPOTILLA_PROCOUNTOR_CLIENT_ID": CANARY.client_id,
                "SPOTILLA_PROCOUNTOR_CLIENT_SECRET": CANARY.client_secret,
                "SPOTILLA_PROCOUNTOR_INTERVAL_MINUTES": "0.05",  # a cycle every 3 s
                "SPOTILLA_PROCOUNTOR_LOG_FORMAT": "json",
                "SPOTILLA_PROCOUNTOR_HTTP_PORT": "0",  # two processes on one host: a port each
            },
            tmp_path,
        )
        built.add_work(seed=1)
        container = build_container(settings)
        container.tenants().enable(
            ORG,
            CANARY.api_key,
            environment=served.url,
            bank_account="FI4950009420028730",
            tasks_completed_from=date(2000, 1, 1),
        )
        container.engine().dispose()
        try:
            yield built
        finally:
            for process in built.processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def _assert_every_task_invoiced_exactly_once(service: Service) -> None:
    keys = [invoice["originalInvoiceNumber"] for invoice in service.fake.invoices()]
    assert len(keys) == len(set(keys)), "a task was invoiced twice"
    tasks = service.state.records(ORG, EntityKind.TASK).values()
    created = {invoice_key(ORG, r.spotilla_id) for r in tasks if r.state == RecordState.LINKED}
    assert created == set(keys), "Spotilla's records and Procountor's invoices disagree"


def _assert_no_overlapping_runs(runs: list) -> None:
    spans = sorted((r.started_at, r.finished_at) for r in runs)
    assert all(finished is not None for _, finished in spans), "a run was left open"
    for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):
        assert later_start >= earlier_end, "two runs of the tenant overlapped"


def test_two_service_processes_run_every_tenant_cycle_once_and_invoice_every_task_once(service: Service) -> None:
    service.start()
    service.start()
    service.wait_for(lambda: sum(r.status == RunStatus.SUCCEEDED for r in service.runs()) >= 1)
    first_batch = len(service.fake.invoices())
    service.add_work(seed=2)  # new billable work arrives between cycles
    service.wait_for(lambda: sum(r.status == RunStatus.SUCCEEDED for r in service.runs()) >= 3)
    assert service.stop_all() == [0, 0]

    _assert_no_overlapping_runs(service.runs())
    _assert_every_task_invoiced_exactly_once(service)
    assert 0 < first_batch < len(service.fake.invoices())  # the work that arrived later went through too
    judged = service.state.records(ORG, EntityKind.TASK)
    awaiting = SqlSpotillaRepository(service.engine).tasks_awaiting_invoice(ORG)
    assert all(t.id in judged and judged[t.id].state == RecordState.HELD_BACK for t in awaiting)


def test_sigterm_lets_the_item_under_way_finish_and_records_the_run_as_interrupted(service: Service) -> None:
    service.fake.set_faults(FaultPlan(latency_ms=300))  # slow Procountor, one create at a time: a long run
    service.add_work(seed=3)
    process = service.start(sync_workers="1")
    service.wait_for(lambda: len(service.fake.invoices()) >= 2)
    assert service.stop(process) == 0

    runs = service.runs()
    assert [r.status for r in runs] == [RunStatus.INTERRUPTED]
    assert all(r.state != RecordState.PENDING for r in service.state.records(ORG, EntityKind.TASK).values())
    _assert_every_task_invoiced_exactly_once(service)
    service.fake.set_faults(FaultPlan())
    service.start()  # the next start finishes the rest
    service.wait_for(lambda: runs[0].id != service.runs()[0].id and service.runs()[0].status == RunStatus.SUCCEEDED)
    assert service.stop_all()[-1] == 0
    _assert_every_task_invoiced_exactly_once(service)


def test_logs_carry_the_run_id_and_never_a_secret_or_token(service: Service) -> None:
    service.start()
    service.wait_for(lambda: any(r.status == RunStatus.SUCCEEDED for r in service.runs()))
    service.stop_all()
    text = service.log_text()
    finished = [line for line in text.splitlines() if '"run finished"' in line]
    assert finished and all('"run_id": ' in line and f'"organization_id": {ORG}' in line for line in finished)
    tokens = list(service.fake.store.tokens)  # every bearer token the fake handed out
    assert tokens
    for secret in [CANARY.client_secret, CANARY.api_key, *tokens]:
        assert secret not in text

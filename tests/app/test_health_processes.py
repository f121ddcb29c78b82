"""Health, readiness and metrics of real `spotilla-procountor run` processes, against the fake Procountor on loopback.

SQLite by default; PostgreSQL where the database is taken away (its schema dropped) under a running service.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from dbutil import postgres_engine, sqlite_engine
from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.container import build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.service import Credentials
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.state import OPEN, EntityKind, RecordState, RunStatus

pytestmark = [pytest.mark.loopback, pytest.mark.slow]
ORG = 1
CANARY = Credentials("svc-client", "svc-secret-5b1e0c2d", "svc-apikey-83f1aa07")
RULES = Path(__file__).parents[2] / "deploy" / "prometheus" / "spotilla-procountor.rules.yml"
PROMETHEUS_OWN = {"up", "time"}  # series and functions Prometheus itself provides


class RunProcess:
    """One `run` process, its log, and the address it serves health and metrics on."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        command = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()", "run"]
        with log.open("w") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self._port()}"

    def _port(self) -> int:
        """The port it logged (HTTP_PORT=0 lets it take any free one)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"`run` exited: {self.log.read_text()}"
            for line in self.log.read_text().splitlines():
                if '"http server listening"' in line:
                    return int(json.loads(line)["port"])
            time.sleep(0.05)
        raise AssertionError(f"`run` did not say where it listens: {self.log.read_text()}")

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def metrics(self) -> dict[tuple[str, frozenset], float]:
        answer = self.get("/metrics")
        assert answer.status_code == 200
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples
        }

    def stop(self) -> int:
        """SIGTERM, as systemd sends it; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def sample(metrics: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float | None:
    return metrics.get((name, frozenset(labels.items())))


def wait_for(condition: Callable[[], object], seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@contextmanager
def service(engine: Engine, fake: FakeProcountor, logs: Path, **settings: str) -> Iterator[RunProcess]:
    """A database with one tenant's work, switched on against `fake` on loopback, and a `run` process over it."""
    upgrade_database(engine)
    generate_demo_data(engine, organization_id=ORG, size=DemoSize(customers=5, products=3, tasks=15), seed=1)
    url = engine.url.render_as_string(hide_password=False)
    key = new_key()
    with fake.serve() as served:
        configured = Settings(
            database_url=url,
            secret_key=key,
            client_id=CANARY.client_id,
            client_secret=CANARY.client_secret,
            _env_file=None,
        )
        container = build_container(configured)
        container.tenants().enable(
            ORG,
            CANARY.api_key,
            environment=served.url,
            bank_account="FI4950009420028730",
            tasks_completed_from=date(2000, 1, 1),
        )
        container.engine().dispose()
        env = os.environ | {
            "SPOTILLA_PROCOUNTOR_DATABASE_URL": url,
            "SPOTILLA_PROCOUNTOR_SECRET_KEY": key,
            "SPOTILLA_PROCOUNTOR_CLIENT_ID": CANARY.client_id,
            "SPOTILLA_PROCOUNTOR_CLIENT_SECRET": CANARY.client_secret,
            "SPOTILLA_PROCOUNTOR_LOG_FORMAT": "json",
            "SPOTILLA_PROCOUNTOR_HTTP_PORT": "0",
            **{f"SPOTILLA_PROCOUNTOR_{name.upper()}": value for name, value in settings.items()},
        }
        running = RunProcess(env, logs / "run.log")
        running.fake_url = served.url  # type: ignore[attr-defined]
        try:
            yield running
        finally:
            running.kill()


def runs(engine: Engine) -> list:
    return SqlStateStore(engine).runs(ORG, limit=100)


@pytest.fixture(scope="module")
def after_a_cycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunProcess, Engine, FakeProcountor]]:
    """A `run` process that has finished one cycle (the next is a minute away), after one 429 on the way."""
    tmp = tmp_path_factory.mktemp("health")
    engine = sqlite_engine(tmp)
    fake = FakeProcountor(
        client_id=CANARY.client_id,
        client_secret=CANARY.client_secret,
        api_key=CANARY.api_key,
        faults=FaultPlan(burst_429={"GET /products": 1}, retry_after_s=0),
    )
    with service(engine, fake, tmp, interval_minutes="1") as running:
        wait_for(lambda: [r.status for r in runs(engine)] == [RunStatus.SUCCEEDED], what="a successful run")
        yield running, engine, fake
    engine.dispose()


def test_healthz_and_readyz_answer_200_after_a_cycle(after_a_cycle) -> None:
    running, _engine, _fake = after_a_cycle
    alive, ready = running.get("/healthz"), running.get("/readyz")
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "reasons": []})


def test_metrics_carry_runs_items_and_the_duration_of_the_cycle(after_a_cycle) -> None:
    running, _engine, fake = after_a_cycle
    metrics = running.metrics()
    org = str(ORG)

    assert sample(metrics, "spotilla_procountor_runs_total", organization_id=org, status="SUCCEEDED") == 1
    assert sample(metrics, "spotilla_procountor_runs_total", organization_id=org, status="FAILED") == 0
    created = sample(metrics, "spotilla_procountor_items_total", flow="invoices", outcome="CREATED")
    assert created == len(fake.invoices()) > 0
    assert sample(metrics, "spotilla_procountor_items_total", flow="products", outcome="CREATED") == len(
        fake.products()
    )
    assert sample(metrics, "spotilla_procountor_cycle_duration_seconds_count") == 1
    assert sample(metrics, "spotilla_procountor_cycle_duration_seconds_sum") > 0


def test_metrics_carry_requests_to_procountor_by_route_the_429_and_the_rate_limiter(after_a_cycle) -> None:
    running, _engine, fake = after_a_cycle
    metrics = running.metrics()
    requests = "spotilla_procountor_api_requests_total"

    assert sample(metrics, requests, method="POST", route="/invoices", status="200") == len(fake.invoices())
    assert sample(metrics, requests, method="POST", route="/oauth/token", status="200") >= 1
    assert sample(metrics, requests, method="GET", route="/products", status="429") == 1
    assert sample(metrics, "spotilla_procountor_api_throttled_total") == 1
    routes = {dict(labels)["route"] for name, labels in metrics if name == requests}
    assert routes and not any(re.search(r"\d", route) for route in routes)  # templates, never a raw id
    limiter = {"client_id": CANARY.client_id, "base_url": running.fake_url}  # type: ignore[attr-defined]
    assert sample(metrics, "spotilla_procountor_rate_limit_margin_ratio", **limiter) == pytest.approx(0.10)
    assert 0 <= sample(metrics, "spotilla_procountor_rate_limit_queue_seconds", **limiter) < 1


def test_metrics_carry_what_waits_and_the_last_success_as_the_database_has_them(after_a_cycle) -> None:
    running, engine, _fake = after_a_cycle
    metrics = running.metrics()
    org = str(ORG)
    state = SqlStateStore(engine)
    records = [r for kind in EntityKind for r in state.records(ORG, kind, states=OPEN).values()]
    held_back = [r for r in records if r.state == RecordState.HELD_BACK and "BEFORE_START" not in str(r.reasons)]

    gauge = {
        kind: sample(metrics, "spotilla_procountor_items_held_back", organization_id=org, kind=kind.value)
        for kind in EntityKind
    }
    assert sum(gauge.values()) == len(held_back) > 0
    assert all(
        sample(metrics, "spotilla_procountor_items_failed", organization_id=org, kind=kind.value) == 0
        for kind in EntityKind
    )
    age = sample(metrics, "spotilla_procountor_oldest_held_back_age_seconds", organization_id=org)
    assert 0 < age < 600
    [run] = runs(engine)
    last_success = sample(metrics, "spotilla_procountor_last_success_timestamp_seconds", organization_id=org)
    assert last_success == pytest.approx(run.finished_at.timestamp())
    assert sample(metrics, "spotilla_procountor_last_attempt_timestamp_seconds", organization_id=org) >= last_success
    assert sample(metrics, "spotilla_procountor_ready") == 1
    assert sample(metrics, "spotilla_procountor_database_up") == 1


def test_the_alert_rules_name_only_metrics_the_service_exports(after_a_cycle) -> None:
    running, _engine, _fake = after_a_cycle
    exported = {name for name, _labels in running.metrics()}
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {r["alert"] for r in rules} >= {
        "SpotillaProcountorDown",
        "SpotillaProcountorNotReady",
        "SpotillaProcountorRunsFailing",
        "SpotillaProcountorFailedItems",
        "SpotillaProcountorStaleLastSuccess",
        "SpotillaProcountorOldHeldBackItems",
        "SpotillaProcountorManyThrottled",
    }
    for rule in rules:
        named = set(re.findall(r"\b(spotilla_procountor_[a-z0-9_]+|up)\b", rule["expr"]))
        assert named, f"{rule['alert']} names no metric"
        unknown = named - exported - PROMETHEUS_OWN
        assert not unknown, f"{rule['alert']} names metrics the service does not export: {sorted(unknown)}"
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_a_run_stuck_for_more_than_two_intervals_makes_the_service_not_ready_and_sigterm_still_stops_it(
    tmp_path: Path,
) -> None:
    engine = sqlite_engine(tmp_path)
    slow = FakeProcountor(
        client_id=CANARY.client_id,
        client_secret=CANARY.client_secret,
        api_key=CANARY.api_key,
        faults=FaultPlan(latency_ms=400),
    )
    # A cycle every 3 s; one create at a time at 0.4 s a request: the first run takes far longer than 6 s.
    with service(engine, slow, tmp_path, interval_minutes="0.05", sync_workers="1") as running:
        assert running.get("/readyz").status_code == 200
        wait_for(lambda: running.get("/readyz").status_code == 503, seconds=30, what="not ready")
        [reason] = running.get("/readyz").json()["reasons"]
        assert reason.startswith(f"organization {ORG}: a run has been going on for ")
        assert "more than two intervals (6 s)" in reason
        assert running.get("/healthz").status_code == 200  # alive all the same

        assert running.stop() == 0
        log = running.log.read_text()
        with pytest.raises(httpx.ConnectError):
            running.get("/healthz")
    assert [r.status for r in runs(engine)] == [RunStatus.INTERRUPTED]  # the items under way finished first
    assert log.index('"stop requested"') < log.index('"service stopped"') < log.index('"http server stopped"')
    engine.dispose()


@pytest.mark.postgres
def test_a_database_taken_away_makes_the_service_not_ready_with_the_reason_and_metrics_still_answer(
    tmp_path: Path,
) -> None:
    fake = FakeProcountor(client_id=CANARY.client_id, client_secret=CANARY.client_secret, api_key=CANARY.api_key)
    with postgres_engine() as engine, service(engine, fake, tmp_path, interval_minutes="1") as running:
        wait_for(lambda: runs(engine) and runs(engine)[0].status == RunStatus.SUCCEEDED, what="a successful run")
        assert running.get("/readyz").status_code == 200
        schema = engine.url.query["options"].split("search_path=")[1].split()[0]
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

        answer = running.get("/readyz")
        assert answer.status_code == 503
        [reason] = answer.json()["reasons"]
        assert reason.startswith("database: Database error while reading the tenants' health")
        assert "procountor_settings" in reason and "`spotilla-procountor db upgrade`" in reason
        metrics = running.metrics()
        assert (sample(metrics, "spotilla_procountor_database_up"), sample(metrics, "spotilla_procountor_ready")) == (
            0,
            0,
        )
        assert not any(name == "spotilla_procountor_items_failed" for name, _ in metrics)
        assert running.stop() == 0


def test_a_port_already_in_use_stops_run_at_once_with_one_line_naming_it(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    upgrade_database(engine)
    engine.dispose()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = os.environ | {
            "SPOTILLA_PROCOUNTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'spotilla.sqlite3'}",
            "SPOTILLA_PROCOUNTOR_SECRET_KEY": new_key(),
            "SPOTILLA_PROCOUNTOR_HTTP_PORT": str(port),
        }
        command = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()", "run"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot serve /healthz, /readyz and /metrics: port {port} on 127.0.0.1 is already in use "
        "(another program, or this service twice); set HTTP_PORT"
    ]

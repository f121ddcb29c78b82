"""What a benchmark runs against: the fake Procountor in its own process, a throwaway database, counters, data."""

from __future__ import annotations

import os
import random
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import DateTime, Engine, bindparam, event, text
from sqlalchemy.engine import make_url

from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_URL_VARIABLE = "SPOTILLA_PROCOUNTOR_TEST_POSTGRES_URL"
_LISTENING = re.compile(r"listening on (?P<url>http://\S+)")
# The fake's route keys from a logged path: version prefix off, ids and id lists as placeholders.
_PREFIX = re.compile(r"^/(?:(?:latest|supported|v\d{4})/)?api")
_IDS = re.compile(r"/\d+(?:,\d+)+")
_ID = re.compile(r"/\d+")


def route_key(method: str, path: str) -> str:
    """`GET /businesspartners/{ids}`-style key of one logged request (one id counts as a list of one)."""
    rest = _PREFIX.sub("", path).rstrip("/") or "/"
    rest = _IDS.sub("/{ids}", rest)
    if method == "GET":
        rest = _ID.sub("/{ids}", rest)
    return f"{method} {_ID.sub('/{id}', rest)}"


class FakeProcountorProcess:
    """`spotilla-procountor fake-procountor` in a child process, so its CPU and memory are not counted as ours."""

    def __init__(self, *, latency_ms: float, rate_limit: float) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child; closed in close()
        command = [
            sys.executable,
            "-c",
            "from spotilla_procountor.app.cli import main; main()",
            "fake-procountor",
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
            "--rate-limit",
            str(rate_limit),
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr, text=True)  # noqa: S603
        self.url = self._read_url(timeout_s=30)
        self._control = httpx.Client(base_url=self.url, timeout=120)

    def _read_url(self, *, timeout_s: float) -> str:
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout_s)
        line = self._process.stdout.readline() if ready else ""
        found = _LISTENING.search(line)
        if found is None:
            self.close()
            self._stderr.seek(0)
            detail = self._stderr.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"the fake Procountor did not start: {line!r} {detail}")
        return found.group("url")

    def request_log(self) -> list[dict]:
        """Every API request the fake answered since its start or last reset, in order."""
        return self._control.get("/_fake/requests").raise_for_status().json()

    def edit_partner(self, partner_id: int, changes: dict) -> None:
        """An accountant's edit in Procountor's UI."""
        self._control.post(f"/_fake/partners/{partner_id}/edit", json=changes).raise_for_status()

    def reset(self) -> None:
        """Forget every object and the request log."""
        self._control.post("/_fake/reset").raise_for_status()

    def advance_clock(self, seconds: float) -> None:
        """Time passing in the company: versions and Date headers from now on are that much later."""
        self._control.post("/_fake/clock", json={"advanceSeconds": seconds}).raise_for_status()

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if hasattr(self, "_control"):
            self._control.close()
        self._stderr.close()


def request_counts(entries: list[dict]) -> tuple[Counter[str], int]:
    """Requests per route, and how many of them the fake answered with 429."""
    routes = Counter(route_key(e["method"], e["path"]) for e in entries)
    return routes, sum(e["status"] == 429 for e in entries)


@contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL schema (dropped on exit); yields its SQLAlchemy URL."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    url = make_url(os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield url.update_query_dict({"options": f"-c search_path={schema}"}).render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


class StatementCounter:
    """Counts the SQL statements an engine sends (an executemany counts once), from any thread."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        with self._lock:
            self.count += 1


class PeakMemory:
    """Peak resident memory of this process in KiB, resettable on Linux so that each scenario has its own peak."""

    _CLEAR_REFS = Path("/proc/self/clear_refs")
    _STATUS = Path("/proc/self/status")

    def reset(self) -> bool:
        try:
            self._CLEAR_REFS.write_text("5")  # "5" resets the peak RSS (VmHWM) to the current RSS
        except OSError:
            return False
        return True

    def peak_kib(self) -> int | None:
        """VmHWM since the last reset; None when the system has no /proc."""
        try:
            lines = self._STATUS.read_text().splitlines()
        except OSError:
            return None
        found = [int(line.split()[1]) for line in lines if line.startswith("VmHWM:")]
        return found[0] if found else None


def large_size(scale: float) -> DemoSize:
    """The issue's large tenant times `scale`; demo tasks are ~55 % COMPLETED, so ask for 5,000/0.55 of them."""
    return DemoSize(
        customers=max(4, round(10_000 * scale)),
        products=max(2, round(2_000 * scale)),
        tasks=max(4, round(5_000 * scale / 0.55)),
        max_products_per_task=4,
        bad_customer_share=0.1,
    )


def insert_steady_work(
    engine: Engine, *, organization_id: int, product_ids: list[int], customers: int, tasks: int, seed: int
) -> list[int]:
    """New valid customers, and completed tasks for them with 1–4 products each; returns the new task ids."""
    rng = random.Random(seed)
    size = DemoSize(customers=customers, products=0, tasks=0, bad_customer_share=0.0)
    customer_ids = generate_demo_data(engine, organization_id=organization_id, size=size, seed=seed).customer_ids
    now = datetime.now(UTC).replace(tzinfo=None)
    insert_task = text(
        "INSERT INTO tasks (organization_id, customer_id, title, description, status, order_number, completed_at,"
        " created_at, updated_at) VALUES (:org, :customer, 'Huoltokäynti', NULL, 'COMPLETED', :order,"
        " :done, :done, :done) RETURNING id"
    ).bindparams(bindparam("done", type_=DateTime()))
    insert_row = text("INSERT INTO task_products (task_id, product_id, quantity) VALUES (:task, :product, :qty)")
    task_ids = []
    with engine.begin() as conn:
        for number in range(tasks):
            done = now - timedelta(minutes=rng.randint(5, 600))
            params = {"org": organization_id, "customer": rng.choice(customer_ids), "order": f"PO-B-{number}"}
            task_id = conn.execute(insert_task, {**params, "done": done}).scalar_one()
            picks = rng.sample(product_ids, min(rng.randint(1, 4), len(product_ids)))
            rows = [{"task": task_id, "product": p, "qty": rng.randint(1, 8)} for p in picks]
            conn.execute(insert_row, rows)
            task_ids.append(task_id)
    return task_ids

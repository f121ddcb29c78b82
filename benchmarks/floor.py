"""The CPU floor of the stack: what one create costs with nothing of ours in the way.

Every request the service makes costs at least a bare httpx exchange, and every create also two commits (the
PENDING record before the request, the outcome after it). This measures both, bare: the same fake Procountor
and latency, the same kind of database with the service's engine settings, a partner body of the usual size
encoded by the standard library, one request at a time, paced under the fake's rate limit. A scenario's floor
is then `create × creates + http × other requests`, with a create timed whole (commit, POST, commit of three
rows: more than its parts timed apart); its measured CPU over that says how much is ours.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text
from sqlalchemy.dialects import postgresql, sqlite

from spotilla_procountor.adapters.procountor_http import RateLimiter
from spotilla_procountor.adapters.spotilla_sql.engine import make_engine

_PARTNER = {
    "name": "Lattiahuolto Virtanen Oy",
    "type": "CUSTOMER",
    "address": {"name": "Lattiahuolto Virtanen Oy", "street": "Teollisuuskatu 12 B", "zip": "00510",
                "city": "Helsinki", "country": "FINLAND"},
    "billingAddress": {"name": "Lattiahuolto Virtanen Oy", "street": "PL 123", "zip": "00101",
                       "city": "Helsinki", "country": "FINLAND"},
    "invoicingInfo": {"identifier": "0112038-9", "identifierType": "FI", "customerNumber": "1234"},
    "paymentInfo": {"paymentMethod": "BANK_TRANSFER", "currency": "EUR", "paymentTermDays": 14},
}  # fmt: skip
_TABLE = "bench_floor_rows"


@dataclass(frozen=True)
class StackFloor:
    """CPU of the bare stack: per create (a POST and two commits), per request, per commit."""

    creates: int
    cpu_ms_per_create: float
    http_cpu_ms_per_request: float
    commit_cpu_ms: float

    def as_json(self) -> dict:
        return dict(vars(self))

    def cpu_ms(self, *, requests: int, creates: int) -> float:
        """The least CPU `requests` requests of which `creates` are creates can cost."""
        return self.cpu_ms_per_create * creates + self.http_cpu_ms_per_request * (requests - creates)


def measure_floor(fake_url: str, database_url: str, *, rate_limit: int, creates: int = 300) -> StackFloor:
    """Times `creates` bare creates (commit, POST, commit of three rows), then the POSTs and commits alone."""
    engine = make_engine(database_url)
    table = _scratch_table(engine)
    upsert = _upsert(engine, table)
    limiter = RateLimiter(rate_limit)
    with httpx.Client(base_url=fake_url + "/api", timeout=30) as client:
        token = _token(client)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def post() -> None:
            limiter.acquire()
            answer = client.post("/businesspartners", content=json.dumps(_PARTNER).encode(), headers=headers)
            answer.raise_for_status()
            answer.json()

        def commit(rows: list[dict]) -> None:
            with engine.begin() as connection:
                for row in rows:
                    connection.execute(upsert, row)

        def create(number: int) -> None:
            commit([{"id": number, "state": "PENDING"}])
            post()
            commit(
                [
                    {"id": number, "state": "DONE"},
                    {"id": -number, "state": "MIRROR"},
                    {"id": 10**9 + number, "state": "EVENT"},
                ]
            )

        try:
            for number in range(1, 21):  # connections, caches and statement compilation warmed up
                create(number)
            whole = _cpu_ms(lambda n: create(1000 + n), creates)
            http = _cpu_ms(lambda _n: post(), creates)
            one_commit = _cpu_ms(lambda n: commit([{"id": 5000 + n, "state": "X"}]), creates)
        finally:
            table.drop(engine)
            engine.dispose()
    return StackFloor(creates, whole, http, one_commit)


def _cpu_ms(action, times: int) -> float:
    started = time.process_time()
    for number in range(times):
        action(number)
    return 1000 * (time.process_time() - started) / times


def _scratch_table(engine: Engine) -> Table:
    table = Table(_TABLE, MetaData(), Column("id", Integer, primary_key=True), Column("state", Text))
    table.drop(engine, checkfirst=True)
    table.create(engine)
    return table


def _upsert(engine: Engine, table: Table):
    stmt = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(table)
    return stmt.on_conflict_do_update(index_elements=["id"], set_={"state": stmt.excluded.state})


def _token(client: httpx.Client) -> str:
    form = {"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "demo-secret",
            "api_key": "demo-api-key", "redirect_uri": "https://example.com/cb"}  # fmt: skip
    answer = client.post("/oauth/token", data=form)
    answer.raise_for_status()
    return answer.json()["access_token"]

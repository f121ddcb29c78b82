"""The partner pull reads only what changed: a pull that found nothing still moves the watermark (issue 7).

Procountor's time comes from its Date headers. Without them the pull falls back to the newest version it
has seen, which after an empty pull means reading the whole company again: slower, never wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bdd.procountor_side import ProcountorDesk
from spotilla_procountor.adapters.memory import InMemorySpotilla, InMemoryStateStore, SystemClock
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway, RateLimiter
from spotilla_procountor.domain.model import IntegrationSettings
from spotilla_procountor.domain.sync import SyncCycle
from spotilla_procountor.domain.sync_context import SyncOptions

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class Company:
    """Procountor's clock, which only the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Wire(httpx.BaseTransport):
    """Passes requests to the fake, keeps each partner listing's query, and can drop the Date header."""

    def __init__(self, fake: FakeProcountor, *, send_date: bool) -> None:
        self._inner = fake.transport()
        self._send_date = send_date
        self.listings: list[dict[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/businesspartners"):
            self.listings.append(dict(request.url.params))
        response = self._inner.handle_request(request)
        if not self._send_date:
            del response.headers["Date"]
        return response


def _run(fake: FakeProcountor, wire: Wire, spotilla: InMemorySpotilla, state: InMemoryStateStore) -> None:
    gateway = HttpProcountorGateway(
        base_url="http://fake.invalid",
        client_id="demo-client",
        client_secret="demo-secret",
        api_key="demo-api-key",
        transport=wire,
        rate_limiter=RateLimiter(10_000),
        sleep=lambda _s: None,
    )
    options = SyncOptions(partner_pull_overlap=timedelta(minutes=2))
    with gateway:
        report = SyncCycle(
            procountor=gateway, spotilla=spotilla, state=state, clock=SystemClock(), options=options
        ).run(1, fence=state.acquire_run_lock(1, "acceptance"))
    assert report.status == "SUCCEEDED", report


@pytest.mark.parametrize("send_date", [True, False], ids=["with Date", "without Date"])
def test_after_an_empty_pull_the_next_reads_only_what_changed_since(send_date: bool) -> None:
    company = Company()
    fake = FakeProcountor(clock=company)
    wire = Wire(fake, send_date=send_date)
    state = InMemoryStateStore()
    spotilla = InMemorySpotilla(state, tenant_settings={1: IntegrationSettings(1)})

    _run(fake, wire, spotilla, state)  # an empty company: nothing to read
    company.now += timedelta(minutes=30)
    ProcountorDesk(fake).add_partner("Uusi Asiakas Oy", "0112038-9")
    company.now += timedelta(minutes=30)
    _run(fake, wire, spotilla, state)

    first, second = wire.listings
    assert "versionStartDate" not in first
    if send_date:  # from Procountor's time at the first pull, less 2 s, less the 2-minute overlap
        assert second.get("versionStartDate") == "2026-11-02T07:57:58"
    else:  # nothing was seen, so nothing bounds the next read: the whole company again
        assert "versionStartDate" not in second
    assert [c.name for c in spotilla.customer_rows.values()] == ["Uusi Asiakas Oy"]

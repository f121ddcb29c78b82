"""Fixtures: the fake Procountor in-process and on loopback, a shared clock, and gateways wired to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from procountor_http_support import API_KEY, CLIENT_ID, CLIENT_SECRET, FakeClock, RecordingTransport, Sleeps

from spotilla_procountor.adapters.procountor_fake.fake import FakeProcountor
from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway, RateLimiter, RetryPolicy
from spotilla_procountor.adapters.procountor_http.transport import network_transport


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fake(clock: FakeClock) -> FakeProcountor:
    return FakeProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY, clock=clock.now)


Connect = Callable[[FakeProcountor], tuple[str, httpx.BaseTransport]]


@pytest.fixture(params=["in_process", pytest.param("loopback", marks=pytest.mark.loopback)])
def connect(request: pytest.FixtureRequest) -> Iterator[Connect]:
    """How the gateway reaches the fake: its in-process transport, or real HTTP to it on 127.0.0.1."""
    servers = []

    def _connect(fake: FakeProcountor) -> tuple[str, httpx.BaseTransport]:
        if request.param == "in_process":
            return "http://fake.procountor.test", fake.transport()
        running = fake.serve("127.0.0.1", 0)
        servers.append(running)
        return running.url, network_transport(8)

    yield _connect
    for running in servers:
        running.close()


@pytest.fixture
def make_gateway(connect: Connect, fake: FakeProcountor, clock: FakeClock, sleeps: Sleeps):
    """Builds gateways on the fake; every transport is recorded. Returns (gateway, recorder)."""
    gateways: list[HttpProcountorGateway] = []

    def _make(**overrides) -> tuple[HttpProcountorGateway, RecordingTransport]:
        base_url, inner = connect(overrides.pop("fake", fake))
        recorder = RecordingTransport(inner)
        settings = {
            "base_url": base_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_key": API_KEY,
            "rate_limiter": RateLimiter(100_000),
            "retry": RetryPolicy(base=0.01),
            "timeout": 5.0,
            "transport": recorder,
            "bank_account": "FI2112345600000785",
            "sleep": sleeps,
            "clock": clock.now,
            "monotonic": clock.monotonic,
            **overrides,
        }
        gateway = HttpProcountorGateway(**settings)
        gateways.append(gateway)
        return gateway, recorder

    yield _make
    for gateway in gateways:
        gateway.close()


@pytest.fixture
def gateway(make_gateway) -> HttpProcountorGateway:
    return make_gateway()[0]


@pytest.fixture
def seeder(fake: FakeProcountor, clock: FakeClock) -> Iterator[HttpProcountorGateway]:
    """A second gateway that fills the fake in-process (fast), whichever way the gateway under test connects."""
    with HttpProcountorGateway(
        base_url="http://fake.procountor.test",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_key=API_KEY,
        rate_limiter=RateLimiter(100_000),
        transport=fake.transport(),
        monotonic=clock.monotonic,
    ) as gateway:
        yield gateway

"""Many callers at once: one token renewal for a crowd of 401s, the rate limit held, requests overlapping."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from procountor_http_support import API_KEY, CLIENT_ID, CLIENT_SECRET, ScriptedProcountor, api_requests, token_requests

from spotilla_procountor.adapters.procountor_fake.faults import FaultPlan
from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway, RateLimiter


def _most_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The largest number of moments that fall within one window of the given length."""
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


class SimulatedTime:
    """Monotonic seconds that move only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_twenty_callers_hitting_an_expired_token_cause_one_token_request(make_gateway, fake, clock):
    frozen = clock.monotonic()
    gateway, _ = make_gateway(monotonic=lambda: frozen, max_in_flight=20)  # the gateway still trusts its token
    gateway.vat_percentages()
    clock.advance(7200)  # the fake has expired it
    fake.set_faults(FaultPlan(latency_ms=250))  # all twenty in flight with the old token, even on a busy machine
    start = threading.Barrier(20)

    def call(_: int):
        start.wait()
        return gateway.vat_percentages()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(call, range(20)))

    assert all(results)
    assert token_requests(fake) == 2
    statuses = [s for _, _, s in api_requests(fake)]
    assert statuses.count(200) == 21
    assert statuses.count(401) >= 10  # the crowd really did hit the expired token together


@pytest.mark.slow
@pytest.mark.parametrize("connect", ["in_process"], indirect=True)
def test_a_thousand_calls_from_eight_threads_never_exceed_the_limit(make_gateway, fake):
    gateway, _ = make_gateway(rate_limiter=RateLimiter(200), max_in_flight=8)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: gateway.vat_percentages(), range(1000)))

    moments = [moment for moment, *_ in fake.request_log]
    assert len(moments) == 1001  # and the token request counted too
    assert all(status == 200 for *_, status, _ in fake.request_log)
    assert _most_in_any_window(moments) <= 200


def test_the_limiter_admits_at_most_n_in_any_second_and_keeps_pace():
    simulated = SimulatedTime()
    limiter = RateLimiter(20, monotonic=simulated.monotonic, sleep=simulated.sleep)

    admitted = []
    for _ in range(1000):
        limiter.acquire()
        admitted.append(simulated.now)

    assert _most_in_any_window(admitted) <= 20
    assert admitted[-1] == pytest.approx(999 * 1.05 / 20, abs=0.01)  # evenly spaced 5 % under the limit, no bursts


def test_gateways_sharing_a_limiter_share_the_limit_token_requests_included():
    simulated = SimulatedTime()
    limiter = RateLimiter(5, monotonic=simulated.monotonic, sleep=simulated.sleep)
    seen: list[float] = []
    server = ScriptedProcountor(httpx.Response(200, json={"vatInformation": []}))

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(simulated.now)
        return server(request)

    settings = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_key": API_KEY, "rate_limiter": limiter}
    with (
        HttpProcountorGateway(base_url="https://a.example", transport=httpx.MockTransport(answer), **settings) as one,
        HttpProcountorGateway(base_url="https://b.example", transport=httpx.MockTransport(answer), **settings) as two,
    ):
        for _ in range(9):
            one.vat_percentages()
            two.vat_percentages()

    assert len(seen) == 20  # 18 calls and 2 token requests
    assert _most_in_any_window(seen) == 5


def test_up_to_max_in_flight_requests_overlap_on_a_slow_network():
    active, most = 0, 0
    lock = threading.Lock()
    server = ScriptedProcountor(httpx.Response(200, json={"vatInformation": []}))

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return server(request)

    with HttpProcountorGateway(
        base_url="https://pts-api.procountor.com",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_key=API_KEY,
        max_in_flight=8,
        rate_limiter=RateLimiter(10_000),
        transport=httpx.MockTransport(slow),
    ) as gateway:
        gateway.vat_percentages()
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda _: gateway.vat_percentages(), range(64)))

    assert most == 8


@pytest.fixture
def fake_process() -> Iterator[str]:
    """The fake Procountor as its own process (`spotilla-procountor fake-procountor`), as a real server would be.

    In the test's own process the fake's handler threads compete with the client's threads for the GIL, and a
    stalled handler stamps a burst of arrivals late; that measures the test, not the client.
    """
    command = [
        sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()", "fake-procountor",
        "--port", "0", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--api-key", API_KEY,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        url = re.search(r"http://[\d.]+:\d+", line)
        assert url, f"the fake did not start: {line!r}"
        yield url.group(0)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


@pytest.mark.loopback
@pytest.mark.slow
def test_a_thousand_calls_over_a_real_socket_never_exceed_the_limit_at_the_server(fake_process: str) -> None:
    gateway = HttpProcountorGateway(
        base_url=fake_process,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_key=API_KEY,
        rate_limiter=RateLimiter(200),
        max_in_flight=8,
    )
    with gateway, ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: gateway.vat_percentages(), range(1000)))

    log = httpx.get(f"{fake_process}/_fake/requests").json()
    assert len(log) == 1001  # and the token request counted too
    assert {entry["status"] for entry in log} == {200}
    assert _most_in_any_window([entry["monotonic"] for entry in log]) <= 200


@pytest.mark.parametrize("margin", [0.0, 0.15])
def test_the_margin_sets_how_far_under_the_limit_the_limiter_keeps(margin):
    simulated = SimulatedTime()
    limiter = RateLimiter(20, margin=margin, monotonic=simulated.monotonic, sleep=simulated.sleep)

    for _ in range(101):
        limiter.acquire()

    assert simulated.now == pytest.approx(100 * (1 + margin) / 20)


@pytest.mark.parametrize("margin", [-0.01, 1.5])
def test_a_margin_outside_0_to_1_is_refused(margin):
    with pytest.raises(ValueError, match="margin"):
        RateLimiter(20, margin=margin)


def _spacing(limiter: RateLimiter, simulated: SimulatedTime) -> float:
    limiter.acquire()
    before = simulated.now
    limiter.acquire()
    return simulated.now - before


def test_each_429_widens_the_margin_up_to_half_and_clean_requests_narrow_it_back():
    simulated = SimulatedTime()
    limiter = RateLimiter(20, monotonic=simulated.monotonic, sleep=simulated.sleep)
    assert _spacing(limiter, simulated) == pytest.approx(1.05 / 20)

    limiter.throttled()
    limiter.throttled()  # within the same second: the same burst
    assert limiter.current_margin == pytest.approx(0.10)
    assert _spacing(limiter, simulated) == pytest.approx(1.10 / 20)

    for _ in range(20):
        simulated.sleep(1.0)
        limiter.throttled()
    assert limiter.current_margin == pytest.approx(0.55)  # 5 % configured + at most 50 % added

    for _ in range(1000 * 5 * 10):
        limiter.acquire()
    assert limiter.current_margin == pytest.approx(0.05)  # back to the configured margin, never below
    assert _spacing(limiter, simulated) == pytest.approx(1.05 / 20)


def test_a_429_makes_the_gateways_limiter_keep_further_under_the_limit():
    simulated = SimulatedTime()
    limiter = RateLimiter(20, monotonic=simulated.monotonic, sleep=simulated.sleep)
    server = ScriptedProcountor(
        httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={"vatInformation": []})
    )
    settings = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_key": API_KEY, "rate_limiter": limiter}
    with HttpProcountorGateway(base_url="https://a.example", transport=server.transport(), **settings) as gateway:
        gateway.vat_percentages()

    assert limiter.current_margin == pytest.approx(0.10)

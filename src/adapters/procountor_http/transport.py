"""The HTTP exchange under the gateway: one httpx client, the in-flight cap, the rate limit, retries."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import itertools
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import certifi
import httpx

from spotilla_procountor.domain.deadline import too_late_to_send
from spotilla_procountor.domain.errors import NotSent, OutcomeUnknown, ProcountorError

from .errors import Verdict, certainly_not_sent, error_for, transport_error, verdict
from .observer import NO_ANSWER, ProcountorObserver, route_template
from .ratelimit import RateLimiter
from .retry import RetryPolicy, parse_retry_after

log = logging.getLogger("spotilla_procountor.procountor")


def require_safe_url(base_url: str, *, in_process: bool) -> None:
    """Refuses plain http unless the host is loopback or the transport is in-process (secrets travel here)."""
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("base_url must be an absolute http(s) URL, e.g. https://pts-api.procountor.com")
    if parts.scheme == "https" or in_process or _is_loopback(parts.hostname):
        return
    raise ValueError("base_url must use https:// (plain http is allowed only for a loopback host or a test transport)")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every gateway: building one costs ~40 ms of CPU, and a service makes a
    gateway per tenant and run."""
    return ssl.create_default_context(cafile=certifi.where())


def network_transport(max_in_flight: int) -> httpx.HTTPTransport:
    """A pooled transport; TCP_NODELAY because httpx writes headers and body separately, and Nagle's
    algorithm would hold the body back until the server's delayed ACK (about 40 ms per call)."""
    return httpx.HTTPTransport(
        verify=_tls(),
        limits=httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )


class ServerClock:
    """Procountor's clock as its `Date` headers show it, relative to ours; never ahead of it.

    A Date header is truncated to the second and written before the answer travels, so server time read
    from it plus the time elapsed here since (monotonic: a step of our wall clock changes nothing) is at
    most Procountor's true time. The latest reading wins, so a step of Procountor's clock is followed.
    No Date header at all: `now()` is None.
    """

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._reading: tuple[datetime, float] | None = None
        self._header: str | None = None

    def observe(self, date_header: str | None, received_at: float) -> None:
        """A Date header received at monotonic time `received_at`."""
        if not date_header or date_header == self._header:
            return  # the same second again: the first arrival of it is the tighter reading, and parsing costs CPU
        self._header = date_header
        try:
            server = parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            return
        if server.tzinfo is None:  # "-0000": RFC 5322's "UTC, source zone unknown"
            return
        self._reading = (server, received_at)

    def now(self) -> datetime | None:
        reading = self._reading
        if reading is None:
            return None
        server, received_at = reading
        return server + timedelta(seconds=max(0.0, self._monotonic() - received_at))


class Exchange:
    """Sends requests: at most `max_in_flight` at once, each admitted by the shared rate limiter.

    Retries follow `policy`. A create (`create=True`) is re-sent only when it certainly did not reach
    Procountor's logic: the connection was never made, or Procountor answered 429. After a 5xx, a read
    timeout or a dropped connection the object may exist, so OutcomeUnknown is raised at once.
    """

    def __init__(
        self,
        *,
        client: httpx.Client,
        limiter: RateLimiter,
        max_in_flight: int,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        observer: ProcountorObserver | None = None,
    ) -> None:
        self._client = client
        self._observer = observer
        self._prefix = client.base_url.path.rstrip("/")
        self._limiter = limiter
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._monotonic = monotonic
        self.server_clock = ServerClock(monotonic)

    def send(
        self, request: Callable[[], httpx.Request], what: str, *, create: bool, in_flight: bool = True
    ) -> httpx.Response:
        """The first answer that is not transient, after retries; raises OutcomeUnknown/TemporarilyUnavailable.

        `request` is built only once the call holds an in-flight slot, so what it carries (the bearer token) is
        fresh even after a long wait for one. `in_flight=False` (token requests) skips the in-flight cap, so that
        building a request inside a slot may fetch a token without waiting for a slot it would itself hold.
        """
        for retry_number in itertools.count():
            try:
                response = self._send_once(request, what, in_flight=in_flight, create=create)
            except httpx.RequestError as exc:
                if create and not certainly_not_sent(exc):
                    raise OutcomeUnknown(f"{what} was sent but its answer was lost ({type(exc).__name__})") from exc
                self._pause(retry_number, None, transport_error(exc, what))
                continue
            if verdict(response.status_code) is not Verdict.RETRY:
                return response
            if response.status_code == 429:
                self._limiter.throttled()
                if self._observer is not None:
                    self._observer.throttled()
                log.warning(
                    "Procountor answered 429 to %s; now keeping %.0f %% under its rate limit",
                    what,
                    100 * self._limiter.current_margin,
                )
            elif create:
                raise OutcomeUnknown(
                    f"Procountor answered {response.status_code} to {what}; the object may have been created"
                )
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            self._pause(retry_number, retry_after, error_for(response, what))
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, retry_number: int, retry_after: float | None, give_up: ProcountorError) -> None:
        """Sleeps before the next try, or raises `give_up` when the policy has no retry left."""
        wait = self._policy.wait(retry_number, retry_after)
        if wait is None:
            raise give_up
        log.debug("retry %d in %.2f s: %s", retry_number + 1, wait, give_up)
        self._sleep(wait)

    def _send_once(
        self, build: Callable[[], httpx.Request], what: str, *, in_flight: bool, create: bool = False
    ) -> httpx.Response:
        """One HTTP exchange under the in-flight cap and the rate limit; logs method, path, status, time.

        A create whose sending deadline passed while it waited for its turn is not sent at all (`NotSent`).
        """
        with self._in_flight if in_flight else contextlib.nullcontext():
            # Built before its rate-limit turn: a token fetched while building takes a turn of its own first,
            # so the two never reach Procountor in one turn; the wait after building is bounded by the cap.
            request = build()
            self._limiter.acquire()
            if create and too_late_to_send():
                raise NotSent(f"{what} waited past its deadline for its turn")
            started = self._monotonic()
            try:
                response = self._client.send(request)
            except httpx.RequestError as exc:
                log.debug("%s -> %s after %.0f ms", what, type(exc).__name__, self._elapsed_ms(started))
                self._observe(request, NO_ANSWER)
                raise
            log.debug("%s -> %d in %.0f ms", what, response.status_code, self._elapsed_ms(started))
            self._observe(request, str(response.status_code))
            self.server_clock.observe(response.headers.get("Date"), self._monotonic())
            return response

    def _observe(self, request: httpx.Request, status: str) -> None:
        if self._observer is not None:
            self._observer.answered(request.method, route_template(request.url.path, self._prefix), status)

    def _elapsed_ms(self, started: float) -> float:
        return (self._monotonic() - started) * 1000

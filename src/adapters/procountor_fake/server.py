"""Serve a FakeProcountor over real HTTP on loopback (stdlib ThreadingHTTPServer in a thread)."""

import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

# fake.py imports this module lazily (inside serve()), so importing it here makes no cycle.
from .fake import FakeProcountor
from .faults import FaultPlan
from .messages import FakeRequest, decode_header


class _Handler(BaseHTTPRequestHandler):
    """Translates one HTTP exchange to and from the fake; timeouts sleep, drops close silently."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each answer waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: "_FakeHTTPServer"

    def _dispatch(self) -> None:
        """Read the request, let the fake answer, write the answer (or not)."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        # http.server decodes header bytes as Latin-1; undo that so UTF-8 names survive.
        headers = {k: decode_header(v.encode("latin-1", "replace")) for k, v in self.headers.items()}
        answer = self.server.fake.handle(FakeRequest.build(self.command, path, query, headers, body))
        if answer.fault == "drop":
            self.close_connection = True
            return
        if answer.fault == "timeout":
            time.sleep(self.server.fake.fault_plan.timeout_sleep_s)
        self._write(answer.status, answer.headers, answer.body)

    def _write(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Status line, headers with Content-Length, body; Date comes from the fake (its clock), not from here."""
        self.log_request(status)
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the fake keeps its own request log."""


class _FakeHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its fake."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (timeouts, drops) is expected here; anything else is still reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __init__(self, address: tuple[str, int], fake: FakeProcountor):
        self.fake = fake
        super().__init__(address, _Handler)


class RunningFake:
    """A fake served from a background thread; use as a context manager or call close()."""

    def __init__(self, fake: FakeProcountor, server: _FakeHTTPServer):
        self.fake = fake
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        # A short poll interval keeps close() (and so every loopback test) fast.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-procountor", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "RunningFake":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_server(fake: FakeProcountor, host: str, port: int) -> RunningFake:
    """Bind and start serving in the background."""
    return RunningFake(fake, _FakeHTTPServer((host, port), fake))


def _error_rates(error_rate: dict[str, float] | float | None) -> dict[str, float]:
    """A bare probability applies to every route."""
    if error_rate is None:
        return {}
    if isinstance(error_rate, int | float):
        return {"*": float(error_rate)} if error_rate else {}
    return dict(error_rate)


def run_fake_server(
    *,
    host: str,
    port: int,
    client_id: str,
    client_secret: str,
    api_key: str,
    token_lifetime_s: float,
    rate_limit_per_s: float | None,
    latency_ms: float,
    error_rate: dict[str, float] | float | None,
    seed: int,
    company_id: int | None = None,
    company_name: str | None = None,
    company_business_id: str | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; prints where it listens but never the client secret."""
    plan = FaultPlan(latency_ms=latency_ms, error_rate=_error_rates(error_rate))
    fake = FakeProcountor(
        client_id=client_id,
        client_secret=client_secret,
        api_key=api_key,
        token_lifetime_s=token_lifetime_s,
        rate_limit_per_s=rate_limit_per_s,
        faults=plan,
        seed=seed,
        company_id=company_id,
        company_name=company_name,
        company_business_id=company_business_id,
    )
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    running = fake.serve(host, port)
    try:
        company = f"company {fake.company['id']} {fake.company['name']} ({fake.company['businessId']})"
        print(
            f"Fake Procountor listening on {running.url} (client_id={client_id}, api_key={api_key}, {company})",
            flush=True,
        )
        stop.wait()
    finally:
        running.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""Serves an ASGI app with uvicorn on a thread of the `run` process, beside the scheduler."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time

import uvicorn

log = logging.getLogger("spotilla_procountor.web")
START_TIMEOUT_S = 10.0


class PortUnavailable(OSError):
    """The HTTP address cannot be listened on (in use, not this machine's, not permitted); the message says which."""


class BackgroundServer:
    """uvicorn on a daemon thread: the socket is bound before `start()` returns, so a port in use fails the start.

    uvicorn installs signal handlers only on the main thread, and this runs on another: SIGTERM and Ctrl-C stay
    with the service (which stops the scheduler first, then this server). Access logs are off (a scrape every few
    seconds would drown the service log); uvicorn's own messages go through the service's logging as configured.
    """

    def __init__(self, app: object, *, host: str, port: int) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system when 0 was asked for)."""
        if self._socket is None:
            raise RuntimeError("the server has not been started")
        return self._socket.getsockname()[1]

    def start(self) -> None:
        """Binds the address (raises `PortUnavailable`) and serves on a thread until `stop()`."""
        self._socket = _bind(self._host, self._requested_port)
        config = uvicorn.Config(
            self._app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, name="http")
        self._thread.daemon = True
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise PortUnavailable(f"the HTTP server on {self._host}:{self.port} did not start; see the log above")
            time.sleep(0.02)
        log.info("http server listening", extra={"host": self._host, "port": self.port})

    def stop(self) -> None:
        """Stops accepting, lets answers under way finish (a few seconds at most), and closes the socket."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        log.info("http server stopped")


def _bind(host: str, port: int) -> socket.socket:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise PortUnavailable(f"HTTP_HOST {host!r} is not an address of this machine ({exc})") from None
    # `localhost` may resolve to ::1 first; 127.0.0.1 is what people and probes try, so IPv4 goes first.
    family, kind, proto, _name, address = min(found, key=lambda info: info[0] != socket.AF_INET)
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait out TIME_WAIT
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(_why(host, port, exc)) from None
    sock.setblocking(False)
    return sock


def _why(host: str, port: int, exc: OSError) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (another program, or this service twice); set HTTP_PORT"
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host} is not an address of this machine; set HTTP_HOST to one of its addresses (127.0.0.1: local only)"
        )
    if exc.errno == errno.EACCES:
        return f"not permitted to listen on {where} (ports below 1024 need privileges); set HTTP_PORT above 1023"
    return f"cannot listen on {where}: {exc.strerror or exc}"

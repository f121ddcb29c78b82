"""uvicorn on a thread of its own: real sockets on loopback, a port in use refused at start, a clean stop."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest
from prometheus_client import CollectorRegistry

from spotilla_procountor.adapters.web.app import create_app
from spotilla_procountor.adapters.web.server import BackgroundServer, PortUnavailable


class Ready:
    def reasons(self) -> list[str]:
        return []


def _app():
    return create_app(readiness=Ready(), registry=CollectorRegistry())


def test_port_0_takes_a_free_port_serves_on_it_and_stop_closes_it() -> None:
    server = BackgroundServer(_app(), host="127.0.0.1", port=0)
    server.start()
    port = server.port
    try:
        assert port > 0
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert threading.current_thread() is threading.main_thread()  # the server thread is another one
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


def test_a_port_already_in_use_is_refused_at_start_with_a_sentence_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortUnavailable) as refused:
            BackgroundServer(_app(), host="127.0.0.1", port=port).start()
    assert str(refused.value) == (
        f"port {port} on 127.0.0.1 is already in use (another program, or this service twice); set HTTP_PORT"
    )


@pytest.mark.parametrize(
    ("host", "words"),
    [("192.0.2.1", "is not an address of this machine"), ("no-such-host.invalid", "is not an address of this machine")],
)
def test_an_address_that_is_not_this_machine_s_is_refused_at_start(host: str, words: str) -> None:
    with pytest.raises(PortUnavailable, match=words):
        BackgroundServer(_app(), host=host, port=0).start()


def test_localhost_is_served_on_ipv4_where_probes_and_people_look() -> None:
    server = BackgroundServer(_app(), host="localhost", port=0)
    server.start()
    try:
        assert httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5).status_code == 200
    finally:
        server.stop()

"""As a demo operator I run the fake as a real HTTP server on loopback."""

import signal
import subprocess
import sys
import threading

import httpx
import pytest

from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan

pytestmark = pytest.mark.loopback


@pytest.fixture
def served():
    fake = FakeProcountor()
    with fake.serve("127.0.0.1", 0) as running:
        yield fake, running


@pytest.fixture
def client(served, authorise):
    """An authorised client talking to the served fake over TCP."""
    with httpx.Client(base_url=served[1].url, timeout=5) as http:
        yield authorise(http)


def test_the_full_flow_over_a_real_socket(served, client, partner_body, invoice_body):
    fake, running = served
    assert running.url.startswith("http://127.0.0.1:")
    partner = client.post("/supported/api/businesspartners", json=partner_body(name="Åke Oy")).json()
    found = client.get("/supported/api/businesspartners", headers={"identifier": "1234567-1"}).json()
    assert [r["name"] for r in found["results"]] == ["Åke Oy"]
    invoice = client.post("/latest/api/invoices", json=invoice_body(partnerId=partner["id"]))
    assert invoice.status_code == 200
    assert invoice.json()["status"] == "UNFINISHED"
    bad = client.post("/api/invoices", json=invoice_body(invoiceRows=[]))
    assert bad.json()["errors"][0]["field"] == "invoiceRows"
    assert [i["partnerId"] for i in fake.invoices()] == [partner["id"]]


def test_utf8_name_header_survives_the_socket(client, partner_body):
    client.post("/api/businesspartners", json=partner_body(name="Öljy Oy"))
    rows = client.get("/api/businesspartners", headers={"name": "Öljy".encode()}).json()["results"]
    assert [r["name"] for r in rows] == ["Öljy Oy"]


def test_a_dropped_connection_after_commit_over_a_real_socket(served, client, invoice_body):
    fake, _ = served
    fake.set_faults(FaultPlan(commit_then_fail_rate={"POST /invoices": 1.0}, commit_then_fail_mode="drop"))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/api/invoices", json=invoice_body())
    assert len(fake.invoices()) == 1


def test_a_served_timeout_sleeps_past_the_client_deadline(served, client, product_body):
    fake, _ = served
    fake.set_faults(FaultPlan(timeout_rate={"POST /products": 1.0}, timeout_sleep_s=0.5))
    with pytest.raises(httpx.ReadTimeout):
        client.post("/api/products", json=product_body(), timeout=0.2)
    assert len(fake.products()) == 1


def test_concurrent_clients_overlap_during_injected_latency(served, client):
    fake, running = served
    token = client.headers["Authorization"]
    fake.set_faults(FaultPlan(latency_ms=300))
    statuses: list[int] = []

    def call() -> None:
        with httpx.Client(base_url=running.url, timeout=5, headers={"Authorization": token}) as c:
            statuses.append(c.get("/api/products").status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    earlier = len(fake.request_log)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 5
    handled = [t for t, *_ in fake.request_log[earlier:]]
    assert max(handled) - min(handled) < 0.3  # all five were in the latency sleep at the same time


def test_control_api_over_http(served):
    fake, running = served
    with httpx.Client(base_url=running.url, timeout=5) as client:
        assert client.put("/_fake/faults", json={"latency_ms": 1}).status_code == 200
        assert client.get("/_fake/state").json()["partners"] == []
    assert fake.fault_plan.latency_ms == 1


def test_close_releases_the_port():
    running = FakeProcountor().serve()
    url = running.url
    running.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_fake/state", timeout=1)


def test_run_fake_server_prints_where_it_listens_but_not_the_secret_and_stops_on_sigterm():
    code = (
        "from spotilla_procountor.adapters.procountor_fake import run_fake_server\n"
        "run_fake_server(host='127.0.0.1', port=0, client_id='cid', client_secret='top-secret',"
        " api_key='key', token_lifetime_s=60, rate_limit_per_s=20, latency_ms=0, error_rate=None, seed=1)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("Fake Procountor listening on http://127.0.0.1:")
        assert "client_id=cid" in line and "api_key=key" in line
        assert "top-secret" not in line
        url = line.split()[4]
        form = {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "top-secret", "api_key": "key"}
        assert httpx.post(f"{url}/api/oauth/token", data=form, timeout=5).json()["expires_in"] == 60
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()

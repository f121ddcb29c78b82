"""As an integration I survive rate limits, lost answers and failures without duplicating invoices."""

import time

import httpx
import pytest

from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan

BASE = "http://fake-procountor.local"


@pytest.fixture
def make_client(authorise):
    def make(fake: FakeProcountor) -> httpx.Client:
        return authorise(httpx.Client(transport=fake.transport(), base_url=BASE))

    return make


def test_over_the_rate_limit_the_client_gets_429_with_retry_after(make_client):
    fake = FakeProcountor(rate_limit_per_s=5)
    client = make_client(fake)  # the token request counts too
    statuses = [client.get("/api/products").status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    limited = client.get("/api/products")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["errors"][0]["status"] == 429


def test_the_rate_limit_window_slides(make_client):
    fake = FakeProcountor(rate_limit_per_s=2)
    client = make_client(fake)
    client.get("/api/products")
    assert client.get("/api/products").status_code == 429
    time.sleep(1.05)
    assert client.get("/api/products").status_code == 200


def test_the_request_log_records_time_route_status_and_client(make_client):
    fake = FakeProcountor()
    make_client(fake).get("/api/products")
    (t1, m1, p1, s1, c1), (t2, m2, p2, s2, c2) = fake.request_log
    assert (m1, p1, s1, c1) == ("POST", "/api/oauth/token", 200, "demo-client")
    assert (m2, p2, s2, c2) == ("GET", "/api/products", 200, "demo-client")
    assert t1 <= t2


def test_a_burst_of_429s_hits_the_next_requests_to_that_route_only(make_client):
    fake = FakeProcountor(faults=FaultPlan(burst_429={"GET /products": 2}, retry_after_s=3))
    client = make_client(fake)
    first = client.get("/api/products")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "3"
    assert client.get("/api/invoices").status_code == 200
    assert client.get("/api/products").status_code == 429
    assert client.get("/api/products").status_code == 200


def test_error_rate_one_fails_every_matching_request_before_storing(make_client, product_body):
    fake = FakeProcountor()
    client = make_client(fake)
    fake.set_faults(FaultPlan(error_rate={"POST /products": 1.0}))
    assert client.post("/api/products", json=product_body()).status_code == 500
    assert client.get("/api/products").status_code == 200
    assert fake.products() == []


def test_error_rate_is_reproducible_with_the_same_seed(make_client):
    def outcomes(seed: int) -> list[int]:
        fake = FakeProcountor(seed=seed)
        client = make_client(fake)
        fake.set_faults(FaultPlan(error_rate={"*": 0.5}))
        return [client.get("/api/products").status_code for _ in range(30)]

    assert outcomes(7) == outcomes(7)
    assert {200, 500} == set(outcomes(7))


def test_commit_then_fail_stores_the_invoice_but_answers_500(make_client, invoice_body):
    fake = FakeProcountor()
    client = make_client(fake)
    fake.set_faults(FaultPlan(commit_then_fail_rate={"POST /invoices": 1.0}))
    response = client.post("/api/invoices", json=invoice_body(originalInvoiceNumber="WO-7"))
    assert response.status_code == 500
    assert [i["originalInvoiceNumber"] for i in fake.invoices()] == ["WO-7"]
    found = client.get("/api/invoices", params={"originalInvoiceNumber": "WO-7"}).json()
    assert found["meta"]["totalCount"] == 1


def test_commit_then_drop_stores_but_the_connection_closes_without_an_answer(make_client, invoice_body):
    fake = FakeProcountor()
    client = make_client(fake)
    fake.set_faults(FaultPlan(commit_then_fail_rate={"POST /invoices": 1.0}, commit_then_fail_mode="drop"))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/api/invoices", json=invoice_body())
    assert len(fake.invoices()) == 1


def test_a_rejected_request_is_answered_normally_under_commit_then_fail(make_client, invoice_body):
    fake = FakeProcountor()
    client = make_client(fake)
    fake.set_faults(FaultPlan(commit_then_fail_rate={"POST /invoices": 1.0}))
    response = client.post("/api/invoices", json=invoice_body(date="not-a-date"))
    assert response.status_code == 400
    assert fake.invoices() == []


def test_a_timeout_happens_after_the_work_is_done(make_client, product_body):
    fake = FakeProcountor()
    client = make_client(fake)
    fake.set_faults(FaultPlan(timeout_rate={"POST /products": 1.0}))
    with pytest.raises(httpx.ReadTimeout):
        client.post("/api/products", json=product_body())
    assert len(fake.products()) == 1


def test_latency_is_added_to_every_request(make_client):
    fake = FakeProcountor()
    client = make_client(fake)
    fake.set_faults(FaultPlan(latency_ms=50))
    started = time.monotonic()
    client.get("/api/products")
    assert time.monotonic() - started >= 0.05


def test_unknown_fault_plan_fields_are_rejected():
    with pytest.raises(ValueError, match="unknown"):
        FaultPlan.from_json({"error_rates": {"*": 1}})
    with pytest.raises(ValueError, match="commit_then_fail_mode"):
        FaultPlan.from_json({"commit_then_fail_mode": "explode"})

"""As a demo operator I inspect the fake company and steer its faults from another process."""

from fake_procountor.conftest import fetch_token
from spotilla_procountor.adapters.procountor_fake import FaultPlan


def test_state_lists_objects_and_request_counts(api, partner_body):
    api.post("/api/businesspartners", json=partner_body())
    state = api.get("/_fake/state").json()
    assert [p["name"] for p in state["partners"]] == ["Acme Oy"]
    assert state["products"] == [] and state["invoices"] == []
    assert state["requestCounts"] == {"POST /oauth/token": 1, "POST /businesspartners": 1}


def test_control_requests_need_no_token_and_are_not_logged(raw, fake):
    assert raw.get("/_fake/state").status_code == 200
    assert fake.request_log == []


def test_faults_can_be_replaced_over_http(api, fake):
    response = api.put("/_fake/faults", json={"error_rate": {"GET /products": 1.0}})
    assert response.status_code == 200
    assert fake.fault_plan == FaultPlan(error_rate={"GET /products": 1.0})
    assert api.get("/api/products").status_code == 500
    assert api.get("/_fake/faults").json()["error_rate"] == {"GET /products": 1.0}
    assert api.put("/_fake/faults", json={"nonsense": 1}).status_code == 400


def test_an_accountant_edit_over_http_bumps_the_version(api, partner_body):
    created = api.post("/api/businesspartners", json=partner_body()).json()
    edited = api.post(f"/_fake/partners/{created['id']}/edit", json={"name": "Edited Oy"})
    assert edited.status_code == 200
    assert edited.json()["version"] > created["version"]
    assert api.get(f"/api/businesspartners/{created['id']}").json()["name"] == "Edited Oy"
    assert api.post("/_fake/partners/999/edit", json={"name": "X"}).status_code == 404
    invalid = api.post(f"/_fake/partners/{created['id']}/edit", json={"name": ""})
    assert invalid.json()["errors"][0]["field"] == "name"


def test_the_request_log_is_readable_over_http(api):
    api.get("/api/products")
    entries = api.get("/_fake/requests").json()
    assert [(e["method"], e["path"], e["status"], e["clientId"]) for e in entries] == [
        ("POST", "/api/oauth/token", 200, "demo-client"),
        ("GET", "/api/products", 200, "demo-client"),
    ]


def test_reset_forgets_data_tokens_and_the_log(api, fake, product_body):
    api.post("/api/products", json=product_body())
    assert api.post("/_fake/reset").status_code == 200
    assert fake.products() == [] and fake.request_log == []
    assert api.get("/api/products").status_code == 401


def test_unknown_control_paths_are_404(raw):
    assert raw.get("/_fake/nothing").status_code == 404


def test_every_answer_carries_a_date_from_the_companys_clock(api, clock):
    clock.advance(minutes=7)
    answer = api.get("/api/products")
    assert answer.headers["Date"] == "Fri, 31 Jan 2025 12:07:00 GMT"
    refused = api.get("/api/nothing-here")
    assert refused.status_code == 404 and refused.headers["Date"] == "Fri, 31 Jan 2025 12:07:00 GMT"


def test_the_clock_moves_forward_over_http_and_new_versions_follow_it(api, raw, partner_body, fake):
    moved = api.post("/_fake/clock", json={"advanceSeconds": 1799.5})
    assert moved.json() == {"now": "2025-01-31T12:29:59.500000"}
    assert api.post("/_fake/clock", json={"advanceSeconds": 0.5}).json() == {"now": "2025-01-31T12:30:00"}
    created = api.post("/api/businesspartners", json=partner_body()).json()
    assert created["version"].startswith("2025-01-31T12:30:00")
    assert api.get("/api/products").headers["Date"] == "Fri, 31 Jan 2025 12:30:00 GMT"
    for wrong in ({"advanceSeconds": -1}, {"advanceSeconds": "soon"}, {"advanceSeconds": True}, {}):
        assert api.post("/_fake/clock", json=wrong).status_code == 400, wrong
    fake.reset()  # puts the clock back too
    assert fetch_token(raw).headers["Date"] == "Fri, 31 Jan 2025 12:00:00 GMT"

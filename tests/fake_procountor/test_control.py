"""As a demo operator I inspect the fake company and steer its faults from another process."""

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

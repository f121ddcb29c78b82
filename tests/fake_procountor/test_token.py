"""As an integration I authenticate with client credentials plus an API key, and tokens expire."""

import httpx
import pytest


@pytest.mark.parametrize("prefix", ["/api", "/latest/api", "/supported/api", "/v2408/api"])
@pytest.mark.parametrize("slash", ["", "/"])
def test_token_is_issued_under_every_version_prefix_with_or_without_trailing_slash(raw, prefix, slash):
    form = {
        "grant_type": "client_credentials",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "api_key": "demo-api-key",
    }
    response = raw.post(f"{prefix}/oauth/token{slash}", data=form)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 20


def test_the_token_works_on_every_prefix(raw, request_token):
    token = request_token(raw).json()["access_token"]
    for prefix in ("/api", "/latest/api", "/supported/api", "/v2512/api"):
        response = raw.get(f"{prefix}/vats/default", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, prefix


@pytest.mark.parametrize("field", ["client_id", "client_secret", "api_key"])
def test_wrong_credentials_are_refused_with_401(raw, request_token, field):
    response = request_token(raw, **{field: "wrong"})
    assert response.status_code == 401
    assert "access_token" not in response.json()


def test_redirect_uri_may_be_left_out(raw):
    form = {
        "grant_type": "client_credentials",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "api_key": "demo-api-key",
    }
    assert raw.post("/api/oauth/token", data=form).status_code == 200


def test_credentials_in_the_query_string_are_rejected(raw):
    params = {
        "grant_type": "client_credentials",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "api_key": "demo-api-key",
    }
    response = raw.post(
        "/api/oauth/token", params=params, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400


def test_a_json_token_request_is_rejected(raw):
    body = {
        "grant_type": "client_credentials",
        "client_id": "demo-client",
        "client_secret": "demo-secret",
        "api_key": "demo-api-key",
    }
    assert raw.post("/api/oauth/token", json=body).status_code == 400


def test_other_grant_types_are_rejected(raw, request_token):
    assert request_token(raw, grant_type="password").status_code == 400


def test_unknown_version_prefix_is_404(raw, request_token):
    assert request_token(raw, prefix="/v24/api").status_code == 404
    assert request_token(raw, prefix="/beta/api").status_code == 404


def test_requests_without_a_token_get_401(raw):
    response = raw.get("/api/businesspartners")
    assert response.status_code == 401
    assert response.json()["errors"][0]["status"] == 401


def test_an_unknown_token_gets_401(raw):
    response = raw.get("/api/products", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401


def test_a_token_expires_after_its_lifetime(raw, request_token, clock):
    token = request_token(raw).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    clock.advance(seconds=3599)
    assert raw.get("/api/products", headers=headers).status_code == 200
    clock.advance(seconds=1)
    assert raw.get("/api/products", headers=headers).status_code == 401


def test_token_lifetime_is_configurable():
    from spotilla_procountor.adapters.procountor_fake import FakeProcountor

    fake = FakeProcountor(token_lifetime_s=60, client_id="c", client_secret="s", api_key="k")
    with httpx.Client(transport=fake.transport(), base_url="http://x") as client:
        form = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s", "api_key": "k"}
        assert client.post("/api/oauth/token", data=form).json()["expires_in"] == 60


def test_a_get_with_a_body_is_forbidden_like_the_azure_gateway(api):
    response = api.request(
        "GET", "/api/products", content=b'{"size": 10}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 403

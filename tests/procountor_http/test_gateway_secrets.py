"""Secrets stay secret, and they are never sent over plain HTTP to another machine."""

from __future__ import annotations

import logging

import httpx
import pytest
from procountor_http_support import API_KEY, CLIENT_ID, CLIENT_SECRET, ScriptedProcountor, new_partner

from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway
from spotilla_procountor.domain.errors import AuthenticationFailed, ProcountorError

SECRETS = (CLIENT_SECRET, API_KEY)


def _settings(**overrides):
    return {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_key": API_KEY, **overrides}


def test_the_gateway_repr_shows_no_secret(gateway):
    gateway.vat_percentages()
    shown = repr(gateway) + repr(gateway._tokens) + repr(gateway._credentials)

    assert CLIENT_ID in repr(gateway)
    assert not any(secret in shown for secret in SECRETS)


def test_wrong_credentials_fail_without_echoing_them(make_gateway, fake):
    gateway, _ = make_gateway(client_secret="wrong-" + CLIENT_SECRET)

    with pytest.raises(AuthenticationFailed) as caught:
        gateway.vat_percentages()

    text = str(caught.value) + repr(caught.value) + str(caught.value.__cause__) + str(caught.value.__context__)
    assert not any(secret in text for secret in SECRETS)


def test_logs_name_method_path_and_status_but_never_a_secret_or_token(make_gateway, caplog):
    gateway, recorder = make_gateway()
    caplog.set_level(logging.DEBUG)
    gateway.create_partner(new_partner(1))
    list(gateway.list_partners())

    token = recorder.requests[-1].headers["Authorization"].removeprefix("Bearer ")
    ours = [r.getMessage() for r in caplog.records if r.name == "spotilla_procountor.procountor"]
    assert any("POST /businesspartners -> 200" in line for line in ours)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(secret in everything for secret in (*SECRETS, token))


def test_error_messages_carry_no_token(caplog):
    server = ScriptedProcountor(httpx.Response(403, json={"errors": [{"status": 403, "message": "FORBIDDEN"}]}))
    with (
        HttpProcountorGateway(
            base_url="https://pts-api.procountor.com", transport=server.transport(), **_settings()
        ) as g,
        pytest.raises(ProcountorError) as caught,
    ):
        g.vat_percentages()

    assert "tok-1" not in str(caught.value)
    assert not any(secret in str(caught.value) for secret in SECRETS)


@pytest.mark.parametrize(
    "base_url", ["http://api.procountor.com", "http://10.0.0.5:8080", "ftp://x", "api.procountor.com"]
)
def test_plain_http_to_another_machine_is_refused(base_url):
    with pytest.raises(ValueError, match="base_url"):
        HttpProcountorGateway(base_url=base_url, **_settings())


@pytest.mark.parametrize(
    "base_url",
    [
        "https://pts-api.procountor.com",
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://[::1]:9000",
        "http://localhost:1",
    ],
)
def test_https_and_loopback_are_accepted(base_url):
    HttpProcountorGateway(base_url=base_url, **_settings()).close()


def test_plain_http_is_accepted_with_an_in_process_transport():
    server = ScriptedProcountor(httpx.Response(200, json={"vatInformation": []}))
    with HttpProcountorGateway(base_url="http://fake", transport=server.transport(), **_settings()) as gateway:
        assert gateway.vat_percentages() == frozenset()

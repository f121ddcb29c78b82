"""Which Procountor API client a tenant's runs log in with: its own, if it has one, else the integration's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from dbutil import sqlite_engine
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.credentials import ApiClient, CredentialCipher, new_key
from spotilla_procountor.app.gateways import GatewayFactory
from spotilla_procountor.app.service import Credentials, NoApiClient, TenantNotConfigured, TenantRefused, TenantService
from spotilla_procountor.app.settings import Settings

IBAN = "FI4950009420028730"
INTEGRATION = ApiClient("integration-client", "integration-secret")
OWN = ApiClient("own-client", "own-secret")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = sqlite_engine(tmp_path)
    upgrade_database(built)
    with built.begin() as connection:
        connection.exec_driver_sql("INSERT INTO organizations (id, name) VALUES (1, 'Yksi Oy'), (2, 'Kaksi Oy')")
    yield built
    built.dispose()


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher(Settings(secret_key=new_key(), _env_file=None))


def tenants(engine: Engine, cipher: CredentialCipher, client: ApiClient | None, fake: FakeProcountor | None = None):
    gateways = GatewayFactory(settings=Settings(_env_file=None), transport=fake.transport() if fake else None)
    return TenantService(state=SqlStateStore(engine), cipher=cipher, gateways=gateways, service_client=client)


def test_a_tenant_switched_on_before_service_clients_keeps_its_stored_client(engine: Engine, cipher) -> None:
    old = TenantConfig(  # as `tenants enable --client-id --client-secret --api-key` stored every tenant before
        1,
        client_id="old-client",
        client_secret_enc=cipher.encrypt("old-secret"),
        api_key_enc=cipher.encrypt("old-key"),
    )
    SqlStateStore(engine).save_settings(old)
    service = tenants(engine, cipher, INTEGRATION)
    assert service.credentials(service.config(1)) == Credentials("old-client", "old-secret", "old-key")


def test_a_tenant_without_a_client_of_its_own_uses_the_integrations(engine: Engine, cipher) -> None:
    SqlStateStore(engine).save_settings(TenantConfig(1, api_key_enc=cipher.encrypt("key-1")))
    service = tenants(engine, cipher, INTEGRATION)
    assert service.credentials(service.config(1)) == Credentials("integration-client", "integration-secret", "key-1")


def test_with_neither_client_the_error_names_the_settings_and_the_override(engine: Engine, cipher) -> None:
    SqlStateStore(engine).save_settings(TenantConfig(1, api_key_enc=cipher.encrypt("key-1")))
    service = tenants(engine, cipher, None)
    with pytest.raises(NoApiClient) as caught:
        service.credentials(service.config(1))
    assert "SPOTILLA_PROCOUNTOR_CLIENT_ID" in str(caught.value) and "--client-id" in str(caught.value)
    with pytest.raises(NoApiClient):
        service.enable(2, "key-2", bank_account=IBAN)
    assert SqlStateStore(engine).settings_row(2) is None


@pytest.mark.parametrize(
    "stored",
    [
        {"client_id": "own-client"},  # an own client without its secret
        {},  # no API key at all
    ],
)
def test_incomplete_stored_credentials_say_to_switch_on_again(engine: Engine, cipher, stored: dict) -> None:
    SqlStateStore(engine).save_settings(TenantConfig(1, api_key_enc=cipher.encrypt("k") if stored else None, **stored))
    service = tenants(engine, cipher, INTEGRATION)
    with pytest.raises(TenantNotConfigured, match="tenants enable 1"):
        service.credentials(service.config(1))


def test_switching_on_again_without_the_own_client_moves_the_tenant_to_the_integrations(engine: Engine, cipher) -> None:
    own_company = FakeProcountor(client_id=OWN.client_id, client_secret=OWN.client_secret, api_key="key-1")
    tenants(engine, cipher, INTEGRATION, own_company).enable(1, "key-1", client=OWN, bank_account=IBAN)
    stored = SqlStateStore(engine).settings_row(1)
    assert stored is not None and stored.client_id == "own-client" and stored.client_secret_enc
    fake = FakeProcountor(client_id=INTEGRATION.client_id, client_secret=INTEGRATION.client_secret, api_key="key-1")
    tenants(engine, cipher, INTEGRATION, fake).enable(1, "key-1", bank_account=IBAN, switch_company=True)
    stored = SqlStateStore(engine).settings_row(1)
    assert stored is not None and (stored.client_id, stored.client_secret_enc) == (None, None)


@pytest.mark.parametrize(
    ("api_key", "client", "expected"),
    [
        ("  ", None, "the API key is empty"),
        ("key-1", ApiClient("own-client", " "), "needs both a client id and a client secret"),
    ],
)
def test_empty_secrets_are_refused_before_anything_is_stored(engine, cipher, api_key, client, expected) -> None:
    with pytest.raises(TenantRefused, match=expected):
        tenants(engine, cipher, INTEGRATION).enable(1, api_key, client=client, bank_account=IBAN)
    assert SqlStateStore(engine).settings_row(1) is None

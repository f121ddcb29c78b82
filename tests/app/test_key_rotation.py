"""Replacing the key that encrypts tenants' credentials: new key in front, `tenants rotate-key`, old key out.

The tenant service and the rotation on SQLite and PostgreSQL against the fake Procountor in-process, and the command
as a real process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, text

from dbutil import postgres_engine, sqlite_engine
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.credentials import ApiClient, CredentialCipher, CredentialsUnreadable, new_key
from spotilla_procountor.app.gateways import GatewayFactory
from spotilla_procountor.app.key_rotation import rotate_keys
from spotilla_procountor.app.service import TenantService
from spotilla_procountor.app.settings import Settings

IBAN = "FI4950009420028730"
SERVICE = ApiClient("demo-client", "demo-secret")
OWN = ApiClient("own-client", "own-secret-3f9a")
OLD, NEW, STRANGER = new_key(), new_key(), new_key()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        built = sqlite_engine(tmp_path)
        upgrade_database(built)
        yield built
        built.dispose()
    else:
        with postgres_engine() as built:
            upgrade_database(built)
            yield built


@pytest.fixture
def fakes() -> dict[int, FakeProcountor]:
    """Organization 1 uses the integration's API client, 2 one of its own; each its own company."""
    return {
        1: FakeProcountor(client_id=SERVICE.client_id, client_secret=SERVICE.client_secret, api_key="key-1"),
        2: FakeProcountor(client_id=OWN.client_id, client_secret=OWN.client_secret, api_key="key-2"),
    }


def tenants(engine: Engine, key: str, fake: FakeProcountor | None = None) -> TenantService:
    settings = Settings(secret_key=key, _env_file=None)
    gateways = GatewayFactory(settings=settings, transport=fake.transport() if fake else None)
    return TenantService(
        state=SqlStateStore(engine), cipher=CredentialCipher(settings), gateways=gateways, service_client=SERVICE
    )


def enable_both(engine: Engine, fakes: dict[int, FakeProcountor], key: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO organizations (id, name) VALUES (1, 'Yksi Oy'), (2, 'Kaksi Oy')"))
    tenants(engine, key, fakes[1]).enable(1, "key-1", bank_account=IBAN, tasks_completed_from=date(2000, 1, 1))
    tenants(engine, key, fakes[2]).enable(2, "key-2", client=OWN, bank_account=IBAN)


def stored(engine: Engine) -> dict[int, tuple[str | None, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT organization_id, client_secret_enc, api_key_enc FROM procountor_settings")
        )
        return {row[0]: (row[1], row[2]) for row in rows}


def readable_with(engine: Engine, key: str) -> dict[int, tuple[str, str, str]]:
    service = tenants(engine, key)
    return {c.organization_id: tuple(vars(service.credentials(c)).values())[:3] for c in service.list()}


def only_key_decrypts(key: str, token: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except Exception:
        return False
    return True


EXPECTED = {1: ("demo-client", "demo-secret", "key-1"), 2: ("own-client", "own-secret-3f9a", "key-2")}


def test_with_the_new_key_in_front_the_old_keys_data_still_reads_and_rotation_moves_it_to_the_new(
    engine: Engine, fakes
) -> None:
    enable_both(engine, fakes, OLD)
    assert readable_with(engine, f"{NEW},{OLD}") == EXPECTED  # during the change, before any rotation
    with pytest.raises(CredentialsUnreadable):
        readable_with(engine, NEW)  # the new key alone cannot read it yet

    result = rotate_keys(SqlStateStore(engine), CredentialCipher(Settings(secret_key=f"{NEW},{OLD}", _env_file=None)))

    assert (result.rotated, result.current, result.unreadable) == ([1, 2], [], [])
    tokens = [token for pair in stored(engine).values() for token in pair if token is not None]
    assert len(tokens) == 3 and all(only_key_decrypts(NEW, token) for token in tokens)
    assert readable_with(engine, NEW) == EXPECTED  # the old key can go


def test_rotating_again_re_encrypts_nothing(engine: Engine, fakes) -> None:
    enable_both(engine, fakes, OLD)
    cipher = CredentialCipher(Settings(secret_key=f"{NEW},{OLD}", _env_file=None))
    rotate_keys(SqlStateStore(engine), cipher)
    before = stored(engine)
    again = rotate_keys(SqlStateStore(engine), cipher)
    assert (again.rotated, again.current, again.unreadable) == ([], [1, 2], [])
    assert stored(engine) == before


def test_a_tenant_no_key_decrypts_is_named_and_left_as_it_was(engine: Engine, fakes) -> None:
    enable_both(engine, fakes, OLD)
    with engine.begin() as connection:  # as if organization 2 had been switched on under a key since lost
        tokens = [Fernet(STRANGER.encode()).encrypt(s.encode()).decode() for s in ("own-secret-3f9a", "key-2")]
        connection.execute(
            text("UPDATE procountor_settings SET client_secret_enc = :s, api_key_enc = :k WHERE organization_id = 2"),
            {"s": tokens[0], "k": tokens[1]},
        )
    result = rotate_keys(SqlStateStore(engine), CredentialCipher(Settings(secret_key=f"{NEW},{OLD}", _env_file=None)))
    assert (result.rotated, result.unreadable) == ([1], [2])
    assert stored(engine)[2] == tuple(tokens)


def test_a_tenant_switched_on_again_while_it_is_re_encrypted_keeps_its_new_credentials(engine: Engine, fakes) -> None:
    enable_both(engine, fakes, OLD)
    state = SqlStateStore(engine)
    seen = stored(engine)[1]
    tenants(engine, OLD, fakes[1]).enable(1, "key-1", bank_account=IBAN)  # meanwhile: new ciphertext
    fresh = stored(engine)[1]
    assert not state.replace_secrets(1, seen, ("stale", "stale"))
    assert stored(engine)[1] == fresh


# ---- the command, as an operator runs it --------------------------------------------------------------------


def rotate_command(database: Path, key: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SPOTILLA_PROCOUNTOR_DATABASE_URL": f"sqlite:///{database}",
        "SPOTILLA_PROCOUNTOR_SECRET_KEY": key,
    }
    return subprocess.run(
        [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()", "tenants", "rotate-key"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_reports_what_it_re_encrypted_and_fails_naming_what_it_could_not(tmp_path: Path, fakes) -> None:
    engine = sqlite_engine(tmp_path)
    upgrade_database(engine)
    enable_both(engine, fakes, OLD)
    database = Path(engine.url.database)

    stranger = rotate_command(database, STRANGER)
    assert stranger.returncode == 1
    assert "0 organization(s) re-encrypted" in stranger.stdout
    assert "organization(s) 1, 2; they were left as they are" in stranger.stderr

    done = rotate_command(database, f"{NEW},{OLD}")
    assert done.returncode == 0, done.stderr
    assert "2 organization(s) re-encrypted with the newest key; 0 already used it." in done.stdout

    again = rotate_command(database, NEW)
    assert again.returncode == 0
    assert "0 organization(s) re-encrypted with the newest key; 2 already used it." in again.stdout
    engine.dispose()


def test_the_command_without_a_usable_key_changes_nothing(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path)
    upgrade_database(engine)
    done = rotate_command(Path(engine.url.database), f"{NEW},not-a-key")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("Error: SPOTILLA_PROCOUNTOR_SECRET_KEY is not valid: key 2 of 2")
    assert "not-a-key" not in done.stderr
    engine.dispose()

"""Secrets in the settings: the integration's API client and the encryption keys, from values or from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from spotilla_procountor.app.credentials import (
    CredentialCipher,
    CredentialsUnreadable,
    InvalidSecretKey,
    MissingSecretKey,
    new_key,
    service_client,
)
from spotilla_procountor.app.settings import Settings, settings_error

CANARY = "canary-c1e7-secret"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return settings_error(caught.value)


@pytest.mark.parametrize("name", ["client_id", "client_secret", "secret_key"])
def test_a_secret_comes_from_its_file_less_one_trailing_newline(name: str, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("value-from-file \n\n")
    read = getattr(settings(**{f"{name}_file": tmp_path / "secret"}), name)
    assert (read if isinstance(read, str) else read.get_secret_value()) == "value-from-file \n"


def test_the_integrations_api_client_comes_from_files_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "id").write_text("integration-client\n")
    (tmp_path / "secret").write_text(CANARY + "\n")
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_CLIENT_ID_FILE", str(tmp_path / "id"))
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_CLIENT_SECRET_FILE", str(tmp_path / "secret"))
    client = service_client(settings())
    assert client is not None
    assert (client.client_id, client.client_secret) == ("integration-client", CANARY)
    assert CANARY not in repr(client)


def test_without_a_client_id_or_its_secret_there_is_no_service_client() -> None:
    assert service_client(settings(client_id="integration-client")) is None
    assert service_client(settings(client_secret=CANARY)) is None
    assert service_client(settings(client_id="", client_secret="  ")) is None  # empty is not set


@pytest.mark.parametrize("name", ["client_id", "client_secret", "secret_key"])
def test_a_value_and_its_file_together_are_refused_naming_both(name: str, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("from-file")
    message = refusal(**{name: CANARY, f"{name}_file": tmp_path / "secret"})
    setting = f"SPOTILLA_PROCOUNTOR_{name.upper()}"
    assert f"both {setting} and {setting}_FILE are set" in message
    assert CANARY not in message


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda folder: folder / "missing", "cannot read {path}: No such file or directory"),
        (lambda folder: folder, "cannot read {path}: Is a directory"),
        (lambda folder: _written(folder / "empty", "\n"), "{path} is empty"),
        (lambda folder: _written(folder / "binary", b"\xff\xfe\x00"), "{path} is not a UTF-8 text file"),
    ],
    ids=["missing", "a directory", "empty", "not text"],
)
def test_a_secret_file_that_cannot_be_used_is_one_line_naming_setting_and_file(make, expected: str, tmp_path) -> None:
    path = make(tmp_path)
    message = refusal(client_secret_file=path)
    assert message == f"SPOTILLA_PROCOUNTOR_CLIENT_SECRET_FILE: {expected.format(path=path)}"


def _written(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def test_a_settings_error_never_quotes_a_secret_it_was_given() -> None:
    with pytest.raises(ValidationError) as caught:
        settings(secret_key=CANARY, client_secret=CANARY, interval_minutes=-1)
    assert settings_error(caught.value) == "SPOTILLA_PROCOUNTOR_INTERVAL_MINUTES: Input should be greater than 0"
    assert CANARY not in str(caught.value)  # even the exception's own text, should it reach a log


def test_the_newest_key_encrypts_and_every_configured_key_decrypts() -> None:
    old, new = new_key(), new_key()
    under_old = CredentialCipher(settings(secret_key=old)).encrypt("api-key")
    both = CredentialCipher(settings(secret_key=f"{new}, {old}"))
    assert both.decrypt(under_old) == "api-key"
    under_new = both.encrypt("api-key")
    Fernet(new.encode()).decrypt(under_new.encode())  # encrypted with the newest (the first) key
    assert CredentialCipher(settings(secret_key=new)).decrypt(under_new) == "api-key"
    with pytest.raises(CredentialsUnreadable):
        CredentialCipher(settings(secret_key=new)).decrypt(under_old)


@pytest.mark.parametrize(
    ("value", "which"),
    [("not-a-key", "it is not"), (f"{new_key()},not-a-key", "key 2 of 2 in it is not")],
    ids=["one key", "the second of two"],
)
def test_an_invalid_key_is_named_by_its_place_never_shown(value: str, which: str) -> None:
    with pytest.raises(InvalidSecretKey) as caught:
        CredentialCipher(settings(secret_key=value)).check()
    assert which in str(caught.value) and "keygen" in str(caught.value)
    assert "not-a-key" not in str(caught.value)


def test_without_a_key_nothing_is_encrypted_and_the_setting_is_named() -> None:
    with pytest.raises(MissingSecretKey, match="SPOTILLA_PROCOUNTOR_SECRET_KEY"):
        CredentialCipher(settings(secret_key="")).encrypt("api-key")

"""`spotilla-procountor token`: a sign-in token as Spotilla signs it, printed alone, made without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from spotilla_procountor.adapters.web.auth import Principal, Role, Tokens
from spotilla_procountor.app.cli import app

JWT_SECRET = "canary-jwt-secret-0f6e2b9d4c1a8e7f5b3d2c1a"
SETTING = "SPOTILLA_PROCOUNTOR_WEB_JWT_SECRET"


@pytest.fixture
def secret_set(env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SETTING, JWT_SECRET)
    return env


def token(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["token", *args])
    return result.exit_code, result.stdout, result.stderr


def test_it_prints_only_a_token_that_the_api_s_check_accepts_as_that_user(secret_set: Path) -> None:
    code, out, err = token("--organization", "42", "--role", "admin", "--subject", "anna@yritys.fi")
    assert (code, err) == (0, "")
    [line] = out.splitlines()  # nothing but the token: `$(spotilla-procountor token ...)` captures it whole
    assert out == line + "\n"
    assert Tokens(JWT_SECRET).verify(line) == Principal("anna@yritys.fi", 42, Role.ADMIN)


def test_an_operator_token_lives_the_minutes_asked_for(secret_set: Path) -> None:
    before = datetime.now(UTC)
    code, out, _err = token("-o", "1", "--role", "operator", "--minutes", "5")
    assert code == 0
    assert Tokens(JWT_SECRET).verify(out.strip()).role == Role.OPERATOR
    expires = datetime.fromtimestamp(jwt.decode(out.strip(), JWT_SECRET, algorithms=["HS256"])["exp"], UTC)
    assert before + timedelta(minutes=5) - timedelta(seconds=1) <= expires <= datetime.now(UTC) + timedelta(minutes=5)


def test_the_secret_may_come_from_a_file(env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "jwt-secret").write_text(JWT_SECRET + "\n")
    monkeypatch.setenv(f"{SETTING}_FILE", str(tmp_path / "jwt-secret"))
    code, out, _err = token("-o", "7", "--role", "admin")
    assert code == 0
    assert Tokens(JWT_SECRET).verify(out.strip()).organization_id == 7


def test_it_needs_no_database(secret_set: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    code, out, _err = token("-o", "3", "--role", "admin")
    assert code == 0
    assert Tokens(JWT_SECRET).verify(out.strip()).organization_id == 3
    assert not secret_set.exists()  # the SQLite file of `env` was not created either


def test_without_the_secret_it_says_which_setting_to_set_and_prints_no_token(env: Path) -> None:
    code, out, err = token("-o", "1", "--role", "admin")
    assert (code, out) == (2, "")
    assert " ".join(err.split()) == (
        f"Error: {SETTING} (or {SETTING}_FILE) is not set: set it to the secret Spotilla signs its sign-in tokens with"
    )


def test_a_secret_too_short_for_hs256_is_refused_with_how_to_make_one(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTING, "short-secret")
    code, out, err = token("-o", "1", "--role", "admin")
    assert (code, out) == (2, "")
    assert "WEB_JWT_SECRET must be at least 32 bytes" in err and "secrets.token_urlsafe" in err
    assert "short-secret" not in err


def test_a_token_living_longer_than_the_api_accepts_is_not_made(
    secret_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = token("-o", "1", "--role", "admin", "--minutes", "61")
    assert (code, out) == (2, "")
    assert "--minutes 61 is longer than the API accepts (SPOTILLA_PROCOUNTOR_WEB_TOKEN_MAX_MINUTES is 60)" in err

    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_WEB_TOKEN_MAX_MINUTES", "120")
    code, out, _err = token("-o", "1", "--role", "admin", "--minutes", "61")
    assert code == 0
    assert Tokens(JWT_SECRET, max_token_lifetime=timedelta(minutes=120)).verify(out.strip()).organization_id == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-o", "1", "--role", "owner"], "'owner' is not one of 'admin', 'operator'"),
        (["-o", "0", "--role", "admin"], "greater than or equal to 1"),
        (["-o", "1", "--role", "admin", "--subject", " "], "--subject is empty"),
        (["--role", "admin"], "Missing option '--organization'"),
    ],
)
def test_what_the_api_would_refuse_is_refused_here(secret_set: Path, args: list[str], words: str) -> None:
    code, out, err = token(*args)
    assert (code, out) == (2, "")
    assert words in " ".join(err.replace("│", " ").split())

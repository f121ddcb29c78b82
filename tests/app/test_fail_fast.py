"""The service does not start when it could not do its work: `run` exits 2 within seconds with one line saying what
to fix, instead of staying up and logging a traceback every minute. Real `run` processes; `check` says the same.

On the code before this change every one of these `run` processes stayed up (the tests' time limit ended them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dbutil import empty_database
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.engine import missing_sqlite_file
from spotilla_procountor.adapters.spotilla_sql.migrate import VERSION_TABLE, upgrade_database
from spotilla_procountor.app.container import build_container
from spotilla_procountor.app.credentials import ApiClient, new_key
from spotilla_procountor.app.settings import Settings

CLI = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()"]
KEY = new_key()
SERVICE = ApiClient("integration-client", "integration-secret-c0ffee")
START_LIMIT_S = 15  # "within seconds": the interpreter and imports take most of it


class Operator:
    """Runs commands as separate processes against one database URL with the environment an operator set."""

    def __init__(self, url: str, folder: Path) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "SPOTILLA_PROCOUNTOR_DATABASE_URL": url,
            "SPOTILLA_PROCOUNTOR_SECRET_KEY": KEY,
            "SPOTILLA_PROCOUNTOR_CLIENT_ID": SERVICE.client_id,
            "SPOTILLA_PROCOUNTOR_CLIENT_SECRET": SERVICE.client_secret,
            "SPOTILLA_PROCOUNTOR_INTERVAL_MINUTES": "0.05",
            "SPOTILLA_PROCOUNTOR_HTTP_PORT": "0",  # tests run side by side: never the default port
        }

    def __call__(self, *args: str, **env: str | None) -> tuple[int, str, str, float]:
        """Exit code, standard output, standard error and seconds taken; a process still up after the limit is
        killed and reported as exit code None."""
        environment = {k: v for k, v in (self.env | env).items() if v is not None}
        started = time.monotonic()
        process = subprocess.Popen(
            [*CLI, *args],
            env=environment,
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = process.communicate(timeout=START_LIMIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            return None, out, err, time.monotonic() - started  # type: ignore[return-value]
        return process.returncode, out, err, time.monotonic() - started

    def refused(self, *args: str, **env: str | None) -> str:
        """The one line a refused command printed on standard error (asserting exit 2, nothing else, no traceback)."""
        code, out, err, _seconds = self(*args, **env)
        assert code == 2, f"exit code {code}; stdout: {out}\nstderr: {err}"
        lines = err.strip().splitlines()
        assert len(lines) == 1, f"not one line:\n{err}"
        assert "Traceback" not in out + err
        return lines[0]


def enable(engine: Engine, organization_id: int = 1, key: str = KEY, *, client: ApiClient | None = None) -> None:
    """Switches an organization on as `tenants enable` does (its API key verified against a fake Procountor)."""
    chosen = client or SERVICE
    fake = FakeProcountor(
        client_id=chosen.client_id, client_secret=chosen.client_secret, api_key=f"key-{organization_id}"
    )
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        database_url=url,
        secret_key=key,
        client_id=SERVICE.client_id,
        client_secret=SERVICE.client_secret,
        _env_file=None,
    )
    container = build_container(settings)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO organizations (id, name) VALUES (:o, 'Oy')"), {"o": organization_id})
    with fake.serve() as served:
        container.tenants().enable(
            organization_id,
            f"key-{organization_id}",
            client=client,
            environment=served.url,
            bank_account="FI4950009420028730",
            tasks_completed_from=date(2000, 1, 1),
        )
    container.engine().dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a SQLite file that exists, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        (tmp_path / "spotilla.sqlite3").touch()
    with empty_database(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def operator(database: Engine, tmp_path: Path) -> Operator:
    return Operator(database.url.render_as_string(hide_password=False), tmp_path)


def test_run_refuses_an_unreachable_database(tmp_path: Path) -> None:
    operator = Operator("postgresql+psycopg://spotilla@127.0.0.1:1/nowhere", tmp_path)
    line = operator.refused("run")
    assert line.startswith("Error: the service cannot start: the database postgresql+psycopg://spotilla@127.0.0.1:1")
    assert "cannot be reached" in line


def test_run_refuses_a_database_without_the_integrations_tables(operator: Operator) -> None:
    line = operator.refused("run")
    assert "has none of the integration's tables; create them with `spotilla-procountor db upgrade`" in line


def test_run_refuses_a_database_whose_schema_is_older_or_newer_than_this_version(
    operator: Operator, database: Engine
) -> None:
    upgrade_database(database)
    with database.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0002'"))
    assert "older schema (0002;" in operator.refused("run")
    with database.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0099_from_the_future'"))
    assert "a newer spotilla-procountor upgraded it" in operator.refused("run")


def test_run_refuses_a_key_that_cannot_decrypt_an_enabled_tenant_naming_it(operator: Operator, database) -> None:
    upgrade_database(database)
    enable(database, 1)
    enable(database, 2, key=new_key())  # switched on under a key this service does not have
    enable(database, 3, key=new_key())
    line = operator.refused("run")
    assert (
        "cannot start: no key in SPOTILLA_PROCOUNTOR_SECRET_KEY decrypts the stored credentials of organizations 2, 3"
        in line
    )
    assert "tenants rotate-key" in line


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "SPOTILLA_PROCOUNTOR_SECRET_KEY is not set"),
        ("", "SPOTILLA_PROCOUNTOR_SECRET_KEY is not set"),
        ("not-a-fernet-key", "SPOTILLA_PROCOUNTOR_SECRET_KEY is not valid"),
    ],
    ids=["unset", "empty", "invalid"],
)
def test_run_refuses_a_missing_or_invalid_secret_key(operator: Operator, database, key, expected: str) -> None:
    upgrade_database(database)
    line = operator.refused("run", SPOTILLA_PROCOUNTOR_SECRET_KEY=key)
    assert expected in line
    assert "not-a-fernet-key" not in line


def test_run_refuses_to_start_without_the_integrations_api_client_when_a_tenant_needs_it(
    operator: Operator, database
) -> None:
    upgrade_database(database)
    enable(database, 1)
    enable(database, 2, client=ApiClient("own-client", "own-secret"))  # has its own: fine
    line = operator.refused("run", SPOTILLA_PROCOUNTOR_CLIENT_ID=None, SPOTILLA_PROCOUNTOR_CLIENT_SECRET=None)
    assert "the integration's Procountor API client is needed by organization 1," in line
    assert "SPOTILLA_PROCOUNTOR_CLIENT_ID and SPOTILLA_PROCOUNTOR_CLIENT_SECRET" in line


def test_run_refuses_a_web_sign_in_secret_too_short_to_be_an_hs256_key(operator: Operator, database) -> None:
    upgrade_database(database)
    line = operator.refused("run", SPOTILLA_PROCOUNTOR_WEB_JWT_SECRET="short-secret-9f2")
    assert "WEB_JWT_SECRET must be at least 32 bytes" in line
    assert "short-secret-9f2" not in line


def test_run_refuses_settings_that_are_wrong_in_one_line(operator: Operator, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-secret"
    line = operator.refused(
        "run", SPOTILLA_PROCOUNTOR_CLIENT_SECRET=None, SPOTILLA_PROCOUNTOR_CLIENT_SECRET_FILE=str(missing)
    )
    assert line == (
        f"Error: the settings are wrong: SPOTILLA_PROCOUNTOR_CLIENT_SECRET_FILE: cannot read {missing}: "
        "No such file or directory"
    )
    both = operator.refused("run", SPOTILLA_PROCOUNTOR_CLIENT_SECRET_FILE=str(missing))
    assert "both SPOTILLA_PROCOUNTOR_CLIENT_SECRET and SPOTILLA_PROCOUNTOR_CLIENT_SECRET_FILE are set" in both
    assert SERVICE.client_secret not in both


@pytest.mark.parametrize("command", [["run"], ["sync"], ["status"], ["tenants", "list"], ["check"]])
def test_a_sqlite_file_that_does_not_exist_is_not_created_but_refused(tmp_path: Path, command: list[str]) -> None:
    database = tmp_path / "typo.sqlite3"
    line = Operator(f"sqlite:///{database}", tmp_path).refused(*command)
    assert line == (
        f"Error: the database file {database} does not exist; create it with `spotilla-procountor db upgrade`, "
        "or correct SPOTILLA_PROCOUNTOR_DATABASE_URL if it is elsewhere"
    )
    assert not database.exists()


def test_db_upgrade_creates_the_sqlite_file_and_then_run_starts(tmp_path: Path) -> None:
    database = tmp_path / "new.sqlite3"
    operator = Operator(f"sqlite:///{database}", tmp_path)
    code, out, err, _ = operator("db", "upgrade")
    assert code == 0, err
    assert database.exists()
    code, out, err, _ = operator("check")
    assert code == 0, out + err
    assert "Ready to run" in out
    code, out, err, _ = operator("run")  # stays up (no reason to stop): killed at the limit
    assert code is None, f"run stopped by itself: {out}\n{err}"
    assert "service started" in err


def test_check_lists_every_problem_and_exits_2(operator: Operator, database) -> None:
    upgrade_database(database)
    enable(database, 1)
    enable(database, 2, key=new_key())
    code, out, err, _ = operator("check", SPOTILLA_PROCOUNTOR_CLIENT_ID=None)
    assert code == 2, out + err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert any("organization 2 (was the key replaced?)" in line for line in lines)
    assert any("API client is needed by organization 1," in line for line in lines)


@pytest.mark.slow
def test_a_database_host_that_never_answers_is_given_up_within_seconds(tmp_path: Path) -> None:
    """Nothing answers at this address, not even a refusal (or there is no route): libpq alone would wait forever."""
    operator = Operator("postgresql+psycopg://spotilla@10.255.255.1:5432/nowhere", tmp_path)
    code, _out, err, seconds = operator("run")
    assert code == 2, err
    assert seconds < START_LIMIT_S
    assert "cannot be reached" in err


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///:memory:", "sqlite:///file:shared?mode=memory&uri=true", "postgresql://h/db"],
)
def test_in_memory_sqlite_and_other_databases_are_never_a_missing_file(url: str) -> None:
    assert missing_sqlite_file(url) is None


def test_a_relative_sqlite_path_is_reported_where_it_was_looked_for(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert missing_sqlite_file("sqlite:///spotilla.sqlite3") == tmp_path / "spotilla.sqlite3"
    (tmp_path / "spotilla.sqlite3").touch()
    assert missing_sqlite_file("sqlite:///spotilla.sqlite3") is None


@pytest.mark.parametrize("command", [["sync"], ["status"], ["status", "--check"], ["tenants", "list"]])
def test_every_command_refuses_a_database_without_the_integrations_tables_in_one_line(
    operator: Operator, command: list[str]
) -> None:
    line = operator.refused(*command)
    assert line.startswith("Error: ") and "create them with `spotilla-procountor db upgrade`" in line


def test_db_upgrade_into_a_folder_that_does_not_exist_says_so_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "no-such-folder" / "spotilla.sqlite3"
    line = Operator(f"sqlite:///{database}", tmp_path).refused("db", "upgrade")
    assert line.startswith("Error: the database could not be created or upgraded: ")


@pytest.mark.parametrize(
    "url", ["postgres://spotilla:pw@127.0.0.1/x", "127.0.0.1:5432/test", "postgresql+psycopg://u@h:notaport/x"]
)
@pytest.mark.parametrize("command", [["run"], ["status"]])
def test_a_database_url_that_is_no_url_is_one_line_without_the_password(
    tmp_path: Path, url: str, command: list[str]
) -> None:
    line = Operator(url, tmp_path).refused(*command)
    assert "SPOTILLA_PROCOUNTOR_DATABASE_URL is not a database URL" in line and "pw" not in line


@pytest.mark.parametrize("setting", ["SPOTILLA_PROCOUNTOR_SECRET_KEY", "SPOTILLA_PROCOUNTOR_CLIENT_ID"])
def test_sync_with_a_wrong_environment_is_refused_and_leaves_the_tenants_run_log_alone(
    operator: Operator, database: Engine, setting: str
) -> None:
    upgrade_database(database)
    enable(database, 1)
    value = "not-a-fernet-key" if setting.endswith("SECRET_KEY") else None
    line = operator.refused("sync", **{setting: value})
    assert line.startswith("Error: ")
    container = build_container(Settings(database_url=operator.env["SPOTILLA_PROCOUNTOR_DATABASE_URL"], _env_file=None))
    assert container.state().runs(1) == [], "a FAILED run was written for the operator's mistake"
    container.engine().dispose()

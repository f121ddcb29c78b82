"""Who gets the alert mails: `tenants notify`, `tenants list`, and the mail settings an operator can get wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.cli import app
from spotilla_procountor.app.settings import Settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "spotilla.sqlite3"
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("SPOTILLA_PROCOUNTOR_SMTP_HOST", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO organizations (id, name) VALUES (1, 'Yksi Oy'), (2, 'Kaksi Oy')")
    SqlStateStore(engine).save_settings(TenantConfig(1))
    engine.dispose()
    return path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_the_admins_addresses_are_checked_stored_and_listed(database: Path) -> None:
    addresses = ["--email", "Anna.Virtanen@Putkiliike.FI", "--email", "ville@putki.fi"]
    code, output = invoke("tenants", "notify", "1", *addresses)
    assert code == 0, output
    assert "alert mails go to Anna.Virtanen@putkiliike.fi, ville@putki.fi" in output
    assert "No SMTP_HOST is set: until it is, alerts are only logged" in output
    assert "Anna.Virtanen@putkiliike.fi, ville@putki.fi" in invoke("tenants", "list")[1]


def test_a_mistyped_address_is_refused_in_one_line_and_nothing_changes(database: Path) -> None:
    assert invoke("tenants", "notify", "1", "--email", "anna@putki.fi")[0] == 0
    code, output = invoke("tenants", "notify", "1", "--email", "ville@putki.fi", "--email", "ville.putki.fi")
    assert code == 2
    assert "'ville.putki.fi' is not an e-mail address" in output and "@-sign" in output
    assert "Traceback" not in output
    assert "anna@putki.fi" in invoke("tenants", "list")[1]


def test_an_organization_that_never_switched_the_integration_on_is_refused(database: Path) -> None:
    code, output = invoke("tenants", "notify", "2", "--email", "anna@kaksi.fi")
    assert code == 2 and "tenants enable 2" in output


@pytest.mark.parametrize("args", [[], ["--email", "anna@putki.fi", "--none"]])
def test_notify_asks_for_addresses_or_none_and_not_both(database: Path, args: list[str]) -> None:
    code, output = invoke("tenants", "notify", "1", *args)
    assert code == 2 and "--email ADDRESS" in output and "--none" in output


def test_none_sends_the_organizations_alerts_to_the_operators(database: Path) -> None:
    invoke("tenants", "notify", "1", "--email", "anna@putki.fi")
    code, output = invoke("tenants", "notify", "1", "--none")
    assert code == 0 and "go to the operators (ALERT_OPERATORS) only" in output
    listed = invoke("tenants", "list")[1]
    assert "anna@putki.fi" not in listed and "operators" in listed


def _error(**settings: object) -> str:
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **settings)
    return str(refused.value)


def test_mail_settings_an_operator_can_get_wrong_are_refused_with_what_to_do() -> None:
    assert "'ops.integraattori.fi' is not an e-mail address" in _error(alert_operators="a@b.fi, ops.integraattori.fi")
    assert "SMTP_FROM is required with SMTP_HOST" in _error(smtp_host="mail.example.fi")
    assert "SMTP_FROM is one address" in _error(smtp_from="a@spotilla.fi, b@spotilla.fi")
    refused_login = _error(smtp_host="mail.example.fi", smtp_from="a@spotilla.fi", smtp_tls="none", smtp_user="u",
                           smtp_password="smtp-password-6a2e")  # fmt: skip
    assert "SMTP_USER needs SMTP_TLS starttls or ssl" in refused_login
    assert "smtp-password-6a2e" not in refused_login


def test_operators_are_read_comma_separated_and_normalized() -> None:
    settings = Settings(_env_file=None, alert_operators=" Ops@Integraattori.FI ,, second@integraattori.fi ")
    assert settings.operator_addresses == ("Ops@integraattori.fi", "second@integraattori.fi")
    assert Settings(_env_file=None).operator_addresses == ()

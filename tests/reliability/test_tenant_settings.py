"""Issue 12, items 4–7: a tenant's settings and company can no longer block or misdirect its invoicing.

Every step is a real `spotilla-procountor` process (as an operator types it) against fake Procountor companies
served on loopback, on SQLite and on PostgreSQL; rows an older version or an outside tool left are written with
plain SQL.

On the code before this change: `tenants enable` accepted no bank account and any text as one (`NOT-AN-IBAN` was
stored and sent); an invoice Procountor refused for the missing bank account was never tried again once it was
added (and there was no `retry` command); re-enabling with another company's credentials went through silently,
after which new invoices pointed at the old company's partners; a second organization could be switched on with
the same company's credentials; and every completed task in the tenant's history was invoiced on the first run
(`--tasks-completed-from` did not exist).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from dbutil import postgres_engine
from spotilla_procountor.adapters.procountor_fake import FakeProcountor, RunningFake
from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.app.credentials import new_key

pytestmark = [pytest.mark.reliability, pytest.mark.loopback, pytest.mark.slow]

IBAN = "FI4950009420028730"
EARLY = "2000-01-01"
HELSINKI = ZoneInfo("Europe/Helsinki")
CLIENT_ID, CLIENT_SECRET = "integration-client", "integration-secret"  # the integration's one API client


def _runs_read_the_tenant_rules(engine: Engine) -> None:
    """The runs see the bank account and start day as stored (Spotilla's settings reader passes them on)."""
    stored = _sql(
        engine, "SELECT bank_account, tasks_completed_from FROM procountor_settings WHERE organization_id = 1"
    )
    read = SqlSpotillaRepository(engine).settings(1)
    assert read is not None and read.tasks_completed_from is not None
    assert read.has_bank_account == bool(stored[0].bank_account)


class Operator:
    """Runs `spotilla-procountor` commands as separate processes on one database."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.env = {
            **os.environ,
            "SPOTILLA_PROCOUNTOR_DATABASE_URL": url,
            "SPOTILLA_PROCOUNTOR_SECRET_KEY": new_key(),
            "SPOTILLA_PROCOUNTOR_CLIENT_ID": CLIENT_ID,
            "SPOTILLA_PROCOUNTOR_CLIENT_SECRET": CLIENT_SECRET,
            "SPOTILLA_PROCOUNTOR_LOG_LEVEL": "WARNING",
            "COLUMNS": "250",
        }
        self.workdir = workdir

    def __call__(self, *args: str) -> tuple[int, str]:
        command = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()", *args]
        done = subprocess.run(
            command, env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=180, check=False
        )
        return done.returncode, done.stdout + done.stderr

    def ok(self, *args: str) -> str:
        code, output = self(*args)
        assert code == 0, f"{' '.join(args[:2])} exited {code}:\n{output}"
        return output

    def enable(self, org: int, company: Company, *extra: str) -> tuple[int, str]:
        return self(
            "tenants", "enable", str(org), "--api-key-file", str(company.api_key_file), "--environment", company.url,
            *extra,
        )  # fmt: skip


class Company:
    """A fake Procountor company on loopback: the integration's API client, and an API key of the company's own."""

    def __init__(self, name: str, folder: Path) -> None:
        self.fake = FakeProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=f"key-{name}")
        self.api_key_file = folder / f"api-key-{name}"
        self.api_key_file.write_text(f"key-{name}\n")
        self.server: RunningFake = self.fake.serve()
        self.url = self.server.url

    def invoice_keys(self) -> list[str]:
        return [i["originalInvoiceNumber"] for i in self.fake.invoices()]

    def partner_ids(self) -> set[int]:
        return {p["id"] for p in self.fake.partners()}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'spotilla.sqlite3'}")
        yield engine
        engine.dispose()
    else:
        with postgres_engine() as engine:
            yield engine


@pytest.fixture
def operator(database: Engine, tmp_path: Path) -> Operator:
    run = Operator(database.url.render_as_string(hide_password=False), tmp_path)
    run.ok("db", "upgrade")
    run.ok("demo-data", "--organization", "1", "--customers", "6", "--products", "4", "--tasks", "16", "--seed", "1")
    return run


@pytest.fixture
def companies(tmp_path: Path) -> Iterator[dict[str, Company]]:
    made = {name: Company(name, tmp_path) for name in ("test", "production")}
    yield made
    for company in made.values():
        company.server.close()


def _sql(engine: Engine, statement: str, **params: object) -> list:
    with engine.begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def _completed_tasks(engine: Engine, org: int = 1) -> dict[int, date]:
    """Completed tasks and their completion day in Helsinki."""
    query = "SELECT id, completed_at FROM tasks WHERE organization_id = :org AND status = 'COMPLETED'"
    return {row.id: _helsinki_day(row.completed_at) for row in _sql(engine, query, org=org)}


def _helsinki_day(moment: datetime | str) -> date:
    at = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return at.replace(tzinfo=at.tzinfo or UTC).astimezone(HELSINKI).date()


def _task_ids(keys: list[str]) -> set[int]:
    return {int(key.rsplit("-T", 1)[1]) for key in keys}


# ---- item 7: the bank account ---------------------------------------------------------------------------------


def test_switching_on_without_a_bank_account_or_with_a_wrong_one_is_refused(
    operator: Operator, companies: dict[str, Company], database: Engine
) -> None:
    code, output = operator.enable(1, companies["test"], "--tasks-completed-from", EARLY)
    assert code == 2 and "bank account (IBAN) is required" in output
    code, output = operator.enable(1, companies["test"], "--bank-account", "NOT-AN-IBAN")
    assert code == 2 and "is not a valid IBAN" in output
    assert _sql(database, "SELECT organization_id FROM procountor_settings") == []

    operator.ok(*_enable_args(companies["test"]), "--bank-account", "FI49 5000 9420 0287 30")
    assert _sql(database, "SELECT bank_account FROM procountor_settings")[0].bank_account == IBAN


def _enable_args(company: Company, org: int = 1) -> tuple[str, ...]:
    return (
        "tenants", "enable", str(org), "--api-key-file", str(company.api_key_file), "--environment", company.url,
        "--tasks-completed-from", EARLY,
    )  # fmt: skip


def test_invoices_refused_for_a_missing_bank_account_are_created_on_the_next_run_once_it_is_added(
    operator: Operator, companies: dict[str, Company], database: Engine
) -> None:
    company = companies["test"]
    operator.ok(*_enable_args(company), "--bank-account", IBAN)
    _sql(database, "UPDATE procountor_settings SET bank_account = NULL")  # as older versions stored it
    operator("sync", "--organization", "1")
    assert company.invoice_keys() == []  # refused by Procountor, or held back: nothing was invoiced
    status = operator.ok("status", "--organization", "1")
    assert "bank" in status.lower()

    operator.ok(*_enable_args(company), "--bank-account", IBAN)
    operator.ok("sync", "--organization", "1")
    assert company.invoice_keys(), "the invoices waiting for the bank account were not created"
    assert len(company.invoice_keys()) == len(set(company.invoice_keys()))


def test_a_tenant_stored_without_a_bank_account_holds_its_invoices_back_with_a_reason(
    operator: Operator, companies: dict[str, Company], database: Engine
) -> None:
    operator.ok(*_enable_args(companies["test"]), "--bank-account", IBAN)
    _sql(database, "UPDATE procountor_settings SET bank_account = NULL")
    _runs_read_the_tenant_rules(database)
    code, output = operator("sync", "--organization", "1")
    assert code == 0, output
    assert companies["test"].fake.route_counts["POST /invoices"] == 0  # nothing sent to be refused
    assert "NO_BANK_ACCOUNT" in operator.ok("status", "--organization", "1")


# ---- item 6: refused items come back ----------------------------------------------------------------------------


def test_refused_invoices_are_tried_again_after_retry(
    operator: Operator, companies: dict[str, Company], database: Engine
) -> None:
    company = companies["test"]
    operator.ok(*_enable_args(company), "--bank-account", IBAN)
    # An account number Procountor refuses (stored with spaces, as before it was validated).
    _sql(database, "UPDATE procountor_settings SET bank_account = 'FI49 5000 9420 0287 30'")
    operator("sync", "--organization", "1")
    assert company.invoice_keys() == []
    failed = _sql(database, "SELECT spotilla_id FROM procountor_records WHERE kind = 'TASK' AND state = 'FAILED'")
    assert failed
    operator("sync", "--organization", "1")
    assert company.invoice_keys() == []  # unchanged data: not retried on its own

    _sql(database, f"UPDATE procountor_settings SET bank_account = '{IBAN}'")  # fixed behind the service's back
    first = str(failed[0].spotilla_id)
    assert "1 refused or held-back" in operator.ok("retry", "--organization", "1", "--task", first)
    operator.ok("sync", "--organization", "1")
    assert _task_ids(company.invoice_keys()) == {int(first)}

    operator.ok("retry", "--organization", "1", "--all-failed")
    operator.ok("sync", "--organization", "1")
    assert _task_ids(company.invoice_keys()) == {r.spotilla_id for r in failed}
    assert len(company.invoice_keys()) == len(set(company.invoice_keys()))


def test_retry_says_what_it_needs(operator: Operator, companies: dict[str, Company]) -> None:
    operator.ok(*_enable_args(companies["test"]), "--bank-account", IBAN)
    code, output = operator("retry", "--organization", "1")
    assert code == 2 and "--all-failed" in output
    code, output = operator("retry", "--organization", "9", "--all-failed")
    assert code == 2 and "has not switched the integration on" in output


# ---- item 4: one company per tenant ---------------------------------------------------------------------------


def test_a_company_switch_must_be_confirmed_and_then_starts_fresh_in_the_new_company(
    operator: Operator, companies: dict[str, Company], database: Engine
) -> None:
    old, new = companies["test"], companies["production"]
    operator.ok(*_enable_args(old), "--bank-account", IBAN)
    operator.ok("sync", "--organization", "1")
    invoiced_in_old = old.invoice_keys()
    assert invoiced_in_old
    stored = _sql(database, "SELECT company_id, company_name, company_business_id FROM procountor_settings")[0]
    assert (stored.company_id, stored.company_name) == (old.fake.company["id"], old.fake.company["name"])

    code, output = operator(*_enable_args(new), "--bank-account", IBAN)
    assert code == 2 and "--switch-company" in output and old.fake.company["name"] in output
    assert _sql(database, "SELECT company_id FROM procountor_settings")[0].company_id == old.fake.company["id"]

    operator.ok(*_enable_args(new), "--bank-account", IBAN, "--switch-company")
    archived = _sql(database, "SELECT DISTINCT company_id FROM procountor_records_archive")
    assert [r.company_id for r in archived] == [old.fake.company["id"]]
    assert _sql(database, "SELECT count(*) AS n FROM procountor_records")[0].n == 0
    operator.ok(
        "demo-data", "--organization", "1", "--customers", "3", "--products", "2", "--tasks", "8", "--seed", "2"
    )
    old_requests = len(old.fake.request_log)

    operator.ok("sync", "--organization", "1")

    assert len(old.fake.request_log) == old_requests, "the old company was asked something after the switch"
    assert old.invoice_keys() == invoiced_in_old
    assert new.invoice_keys()
    assert {i["partnerId"] for i in new.fake.invoices()} <= new.partner_ids()
    linked = _sql(database, "SELECT procountor_id FROM procountor_records WHERE kind = 'CUSTOMER' AND state = 'LINKED'")
    assert {r.procountor_id for r in linked} <= new.partner_ids()
    assert operator.ok("sync", "--organization", "1")  # and the next run is quiet: nothing twice
    assert len(new.invoice_keys()) == len(set(new.invoice_keys()))


def test_a_second_organization_on_the_same_company_is_refused(
    operator: Operator, companies: dict[str, Company], database: Engine
) -> None:
    operator.ok("demo-data", "--organization", "2", "--customers", "3", "--tasks", "4", "--seed", "3")
    operator.ok(*_enable_args(companies["test"], org=1), "--bank-account", IBAN)

    code, output = operator(*_enable_args(companies["test"], org=2), "--bank-account", IBAN)

    assert code == 2
    assert "already serves organization 1" in output
    assert [r.organization_id for r in _sql(database, "SELECT organization_id FROM procountor_settings")] == [1]


# ---- item 5: where transfer starts ----------------------------------------------------------------------------


def test_tasks_completed_before_the_start_day_are_never_invoiced(
    operator: Operator, companies: dict[str, Company], database: Engine
) -> None:
    company = companies["test"]
    completed = _completed_tasks(database)
    start = (datetime.now(UTC) - timedelta(days=12)).astimezone(HELSINKI).date()
    older = {task_id for task_id, day in completed.items() if day < start}
    assert older and set(completed) - older  # the data has both

    enable = _enable_args(company)[:-2]
    operator.ok(*enable, "--bank-account", IBAN, "--tasks-completed-from", start.isoformat())
    _runs_read_the_tenant_rules(database)
    dry_run = operator.ok("sync", "--organization", "1", "--dry-run")
    assert f"{len(older)} task(s) completed before the organization's start day are not invoiced" in dry_run
    operator.ok("sync", "--organization", "1")
    operator.ok("sync", "--organization", "1")

    invoiced = _task_ids(company.invoice_keys())
    assert invoiced and not invoiced & older
    status = operator.ok("status", "--organization", "1")
    assert f"{len(older)} completed task(s) are older than the day the integration starts from ({start})" in status


def test_by_default_transfer_starts_on_the_day_the_integration_is_switched_on(
    operator: Operator, companies: dict[str, Company], database: Engine
) -> None:
    today = datetime.now(HELSINKI).date()
    enable = _enable_args(companies["test"])[:-2]
    operator.ok(*enable, "--bank-account", IBAN)
    _runs_read_the_tenant_rules(database)
    assert _sql(database, "SELECT tasks_completed_from FROM procountor_settings")[0].tasks_completed_from in (
        today,
        today.isoformat(),
    )
    operator.ok("sync", "--organization", "1")
    completed_today = {task_id for task_id, day in _completed_tasks(database).items() if day >= today}
    assert _task_ids(companies["test"].invoice_keys()) <= completed_today


def test_re_enabling_keeps_the_start_day(operator: Operator, companies: dict[str, Company], database: Engine) -> None:
    operator.ok(*_enable_args(companies["test"]), "--bank-account", IBAN)
    enable = _enable_args(companies["test"])[:-2]
    operator.ok(*enable, "--bank-account", IBAN, "--policy", "with-order-number")
    stored = _sql(database, "SELECT tasks_completed_from FROM procountor_settings")[0].tasks_completed_from
    assert str(stored) == EARLY or stored == date(2000, 1, 1)

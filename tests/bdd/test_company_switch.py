"""Scenarios of features/company_switch.feature: the tenant service and its runs on SQLite, each Procountor company a
fake served on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import text

from spotilla_procountor.adapters.procountor_fake import FakeProcountor, RunningFake
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.service import TenantNotConfigured
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.state import EntityKind, RunStatus

from .backends import MemoryBackend, SpotillaBackend

pytestmark = pytest.mark.loopback
scenarios("company_switch.feature")

IBAN = "FI4950009420028730"
CLIENT_ID, CLIENT_SECRET = "integration-client", "integration-secret"  # one API client; each company gives a key


@pytest.fixture
def backend() -> Iterator[SpotillaBackend]:
    """These scenarios run the service itself on SQLite: the per-backend worlds of the other features are not used."""
    yield MemoryBackend()


@dataclass
class Company:
    fake: FakeProcountor
    server: RunningFake
    api_key: str
    requests_at_move: int | None = None


@dataclass
class Office:
    """The service as an administrator uses it, and the Procountor companies it can reach."""

    container: Container
    companies: dict[str, Company] = field(default_factory=dict)
    refusal: str | None = None

    def enable(self, org: int, company: str, *, switch: bool = False) -> None:
        found = self.companies[company]
        self.refusal = None
        try:
            self.container.tenants().enable(
                org,
                found.api_key,
                environment=found.server.url,
                bank_account=IBAN,
                tasks_completed_from=date(2000, 1, 1),
                switch_company=switch,
            )
        except ValueError as exc:
            self.refusal = str(exc)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'spotilla.sqlite3'}",
        secret_key=new_key(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        _env_file=None,
    )
    built = Office(build_container(settings))
    upgrade_database(built.container.engine())
    yield built
    for company in built.companies.values():
        company.server.close()
    built.container.engine().dispose()


@given(parsers.parse('Procountor companies "{first}" and "{second}"'))
def _companies(office: Office, first: str, second: str) -> None:
    for number, name in enumerate((first, second), start=1):
        fake = FakeProcountor(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=f"key-{number}", company_name=name
        )
        office.companies[name] = Company(fake, fake.serve(), f"key-{number}")


@given(parsers.parse("organization {org:d} has completed work to invoice"))
@when(parsers.parse("organization {org:d} completes more work"))
def _work(office: Office, org: int) -> None:
    size = DemoSize(customers=4, products=3, tasks=10)
    generate_demo_data(office.container.engine(), organization_id=org, size=size, seed=org + len(_all_tasks(office)))


def _all_tasks(office: Office) -> list:
    with office.container.engine().connect() as connection:
        return list(connection.execute(text("SELECT id FROM tasks")))


@given(parsers.parse('organization {org:d} has switched the integration on with the API key of "{company}"'))
@when(parsers.parse('organization {org:d} is switched on with the API key of "{company}"'))
def _enable(office: Office, org: int, company: str) -> None:
    office.enable(org, company)


@when(parsers.parse('organization {org:d} is switched on with the API key of "{company}", confirming the move'))
def _move(office: Office, org: int, company: str) -> None:
    for each in office.companies.values():
        each.requests_at_move = len(each.fake.request_log)
    office.enable(org, company, switch=True)
    assert office.refusal is None, office.refusal


@given(parsers.parse("the integration has run for organization {org:d}"))
@when(parsers.parse("the integration runs for organization {org:d}"))
def _run(office: Office, org: int) -> None:
    report = office.container.sync_service().sync(org)
    assert report.status == RunStatus.SUCCEEDED, report.error


@then(parsers.parse('organization {org:d} invoices into "{company}"'))
def _bound_to(office: Office, org: int, company: str) -> None:
    config = office.container.tenants().config(org)
    assert config.company_name == company
    assert config.company_id == office.companies[company].fake.company["id"]


@then(parsers.parse('"{company}" has invoices of organization {org:d}'))
def _has_invoices(office: Office, company: str, org: int) -> None:
    keys = [i["originalInvoiceNumber"] for i in office.companies[company].fake.invoices()]
    assert keys and all(k.startswith(f"SPOTILLA-{org}-T") for k in keys)
    assert len(keys) == len(set(keys))


@then(parsers.parse('"{company}" has invoices of organization {org:d}, each for a customer of "{same}"'))
def _invoices_to_own_partners(office: Office, company: str, org: int, same: str) -> None:
    _has_invoices(office, company, org)
    fake = office.companies[company].fake
    assert {i["partnerId"] for i in fake.invoices()} <= {p["id"] for p in fake.partners()}


@then(parsers.parse('"{company}" heard nothing more from the integration after the move'))
def _nothing_more(office: Office, company: str) -> None:
    found = office.companies[company]
    assert len(found.fake.request_log) == found.requests_at_move


@then(parsers.parse('what was transferred into "{company}" is kept as history'))
def _kept(office: Office, company: str) -> None:
    fake = office.companies[company].fake
    with office.container.engine().connect() as connection:
        rows = list(connection.execute(text("SELECT company_id, kind, procountor_id FROM procountor_records_archive")))
    assert {r.company_id for r in rows} == {fake.company["id"]}
    archived = {r.procountor_id for r in rows if r.kind == EntityKind.TASK}
    assert archived == {i["id"] for i in fake.invoices()}


@then(parsers.re(r"it is refused because (?P<why>.+)"))
def _refused(office: Office, why: str) -> None:
    assert office.refusal is not None, "it was not refused"
    expected = {
        "the move to another company must be confirmed": r"--switch-company",
        "already serves": r"already serves organization \d+",
    }
    pattern = next((p for k, p in expected.items() if k in why), None)
    assert pattern is not None, f"unknown refusal {why!r}; known: {sorted(expected)}"
    assert re.search(pattern, office.refusal), office.refusal


@then(parsers.parse("organization {org:d} has not switched the integration on"))
def _not_on(office: Office, org: int) -> None:
    with pytest.raises(TenantNotConfigured):
        office.container.tenants().config(org)

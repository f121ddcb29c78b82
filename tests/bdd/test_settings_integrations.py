"""Scenarios of features/settings_integrations.feature, and what the admin and the operators see.

Not over the other features' backends: this feature has a world of its own (`admin_world.py`), the service as `run`
serves it, on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_bdd import parsers, scenarios, then
from sqlalchemy import Engine

from dbutil import empty_database
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.web.auth import Role
from spotilla_procountor.domain.keys import invoice_key

from .admin_world import CLIENT_ID, AdminWorld, User
from .steps_admin import *  # noqa: F403 - step definitions are fixtures, found by name
from .steps_admin import POLICIES, codes, integration_of, known, waiting_items
from .steps_spotilla import table_rows

pytestmark = pytest.mark.loopback

scenarios("settings_integrations.feature")


@pytest.fixture
def _on_every_backend(database: Engine) -> None:
    """Instead of the other features' backends (memory, the SQLite world): each scenario runs on each database."""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Spotilla's database: a SQLite file, or a schema of its own on PostgreSQL."""
    with empty_database(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def admin_world(database: Engine) -> Iterator[AdminWorld]:
    with AdminWorld.started(database) as world:
        yield world


def _problem(answer: httpx.Response, field: str) -> dict[str, Any]:
    """The one problem the refusal names for this field of the form."""
    assert answer.status_code == 422, answer.text
    (problem,) = [p for p in answer.json()["detail"] if p["loc"] == ["body", field]]
    return problem


def _invoices_by_key(admin_world: AdminWorld) -> dict[str, dict[str, Any]]:
    return {i["originalInvoiceNumber"]: i for i in admin_world.procountor.invoices()}


def _writes(company: FakeProcountor) -> list[tuple[str, str]]:
    """The requests that would change something in the company (asking for a token changes nothing)."""
    return [(m, p) for _, m, p, _, _ in company.request_log if m != "GET" and not p.endswith("/oauth/token")]


def _glance(admin_world: AdminWorld, admin: User) -> dict[str, Any]:
    answer = admin.call("GET", f"/organizations/{admin_world.organization_id}/status")
    assert answer.status_code == 200, answer.text
    return answer.json()


# ---------------------------------------------------------------- the settings


@then("the integration is switched on, in the organization's company in Procountor")
def _switched_on(admin_world: AdminWorld, admin: User) -> None:
    page = integration_of(admin, admin_world.organization_id)
    company = admin_world.procountor.company
    assert page["enabled"] and page["environment"] == "test", page
    assert (page["company"]["id"], page["company"]["name"]) == (company["id"], company["name"]), page


@then(parsers.re(r"the integration (?:stays|is) switched off"))
def _switched_off(admin_world: AdminWorld, admin: User) -> None:
    assert integration_of(admin, admin_world.organization_id)["enabled"] is False


@then("the page says an API key is stored, without showing it")
def _key_stored(admin_world: AdminWorld, admin: User) -> None:
    page = integration_of(admin, admin_world.organization_id)  # `User` fails any answer with the key in it
    assert page["api_key_stored"] is True and "api_key" not in page, page


@then("no API key is stored")
def _no_key_stored(admin_world: AdminWorld, admin: User) -> None:
    page = integration_of(admin, admin_world.organization_id)
    assert (page["configured"], page["api_key_stored"]) == (False, False), page


@then("the API key field says Procountor refused the key")
def _key_refused(answer: httpx.Response) -> None:
    problem = _problem(answer, "api_key")
    assert problem["type"] == "refused" and "Procountor refused this API key" in problem["msg"], problem


@then(parsers.parse('the API key field tells how to create one: "{where}", with the integration\'s client id'))
def _key_help(answer: httpx.Response, where: str) -> None:
    message = _problem(answer, "api_key")["msg"]
    assert where in message and CLIENT_ID in message, message


@then(parsers.parse('the bank account field says "{words}"'))
def _account_refused(answer: httpx.Response, words: str) -> None:
    problem = _problem(answer, "bank_account")
    assert words in problem["msg"], problem


@then(parsers.parse("the page says the integration transfers {which}"))
def _policy_shown(admin_world: AdminWorld, admin: User, which: str) -> None:
    assert integration_of(admin, admin_world.organization_id)["policy"] == known(POLICIES, which, "policy")


# ---------------------------------------------------------------- runs and what waits


@then("the run succeeds")
def _run_succeeds(glance: dict[str, Any]) -> None:
    assert glance["last_runs"] and glance["last_runs"][0]["status"] == "SUCCEEDED", glance


@then(parsers.parse('the task "{title}" waits because {code}'))
def _task_waits(admin_world: AdminWorld, admin: User, title: str, code: str) -> None:
    task_id = admin_world.id_of("task", title)
    found = [
        i
        for i in waiting_items(admin, admin_world.organization_id)
        if (i["kind"], i["spotilla_id"]) == ("task", task_id)
    ]
    assert len(found) == 1 and code in codes(found[0]), found


@then(parsers.parse('Procountor has an unfinished invoice to "{customer}" for the task "{title}"'))
def _invoice_made(admin_world: AdminWorld, customer: str, title: str) -> None:
    key = invoice_key(admin_world.organization_id, admin_world.id_of("task", title))
    invoice = _invoices_by_key(admin_world).get(key)
    assert invoice is not None, f"Procountor has no invoice {key}: {list(_invoices_by_key(admin_world))}"
    assert invoice["status"] == "UNFINISHED" and invoice["type"] == "SALES_INVOICE", invoice
    assert invoice["counterParty"]["counterPartyAddress"]["name"] == customer, invoice["counterParty"]


@then(parsers.parse("Procountor has {count:d} invoices, one for each task"))
def _one_invoice_per_task(admin_world: AdminWorld, count: int) -> None:
    tasks = [task_id for (kind, _), task_id in admin_world.ids.items() if kind == "task"]
    keys = sorted(invoice_key(admin_world.organization_id, t) for t in tasks)
    assert len(tasks) == count and sorted(i["originalInvoiceNumber"] for i in admin_world.procountor.invoices()) == keys


@then(parsers.parse('Procountor has 1 customer "{name}" and 1 product "{code}"'))
def _nothing_twice(admin_world: AdminWorld, name: str, code: str) -> None:
    partners = [p["name"] for p in admin_world.procountor.partners()]
    products = [p["code"] for p in admin_world.procountor.products()]
    assert (partners, products) == ([name], [code])


@then(parsers.re(r"the page shows (?P<count>\d+) tasks? transferred and nothing waiting"))
def _transferred(admin_world: AdminWorld, admin: User, count: str) -> None:
    counts = _glance(admin_world, admin)["counts"]
    assert counts["transferred_tasks"] == int(count), counts
    assert (counts["held_back"], counts["failed"], counts["in_doubt"]) == (0, 0, 0), counts
    assert waiting_items(admin, admin_world.organization_id) == []


@then(
    parsers.parse(
        "the page still shows {tasks:d} task transferred, {customers:d} customer and {products:d} product linked"
    )
)
def _links_kept(admin_world: AdminWorld, admin: User, tasks: int, customers: int, products: int) -> None:
    counts = _glance(admin_world, admin)["counts"]
    linked = (counts["transferred_tasks"], counts["linked_customers"], counts["linked_products"])
    assert linked == (tasks, customers, products), counts


@then("the admin is told a run is already waiting and to wait for it to finish")
def _already_waiting(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    said = answer.json()
    assert said["outcome"] == "already_queued" and "already queued" in said["message"], said
    assert "wait for it to finish" in said["message"], said


@then("Run now is refused because the integration is switched off")
def _run_refused_when_off(admin_world: AdminWorld, admin: User) -> None:
    answer = admin.call("POST", f"/organizations/{admin_world.organization_id}/sync")
    assert answer.status_code == 409 and "switched off" in answer.json()["detail"], answer.text


@then("the held-back list shows:")
def _held_back_list(admin_world: AdminWorld, admin: User, datatable: list[list[str]]) -> None:
    items = {(i["kind"], i["spotilla_id"]): i for i in waiting_items(admin, admin_world.organization_id, "held_back")}
    expected = {}
    for row in table_rows(datatable):
        kind, _, name = row["what"].partition(" ")
        expected[(kind, admin_world.id_of(kind, name))] = (name, row)
    assert sorted(items) == sorted(expected), (list(items), list(expected))
    for key, (name, row) in expected.items():
        item = items[key]
        assert item["name"] == name and item["since"], item
        assert row["reason"] in codes(item), item
        assert any(row["says"] in r["message"] for r in item["reasons"]), item


# ---------------------------------------------------------------- the preview

OUTCOMES = {"would be created": "would_create", "held back": "held_back"}


@then("the preview lists:")
def _preview_lists(admin_world: AdminWorld, preview: dict[str, Any], datatable: list[list[str]]) -> None:
    listed = {(e["kind"], e["spotilla_id"]): (outcome, e) for outcome in OUTCOMES.values() for e in preview[outcome]}
    expected = {}
    for row in table_rows(datatable):
        kind, _, name = row["what"].partition(" ")
        expected[(kind, admin_world.id_of(kind, name))] = (name, known(OUTCOMES, row["outcome"], "outcome"), row)
    assert sorted(listed) == sorted(expected), (preview, list(expected))
    for key, (name, outcome, row) in expected.items():
        shown, event = listed[key]
        assert shown == outcome and event["name"] == name, (row, event)
        assert not row["reason"] or row["reason"] in codes(event), (row, event)


@then("nothing was created or changed in Procountor")
def _nothing_sent(admin_world: AdminWorld) -> None:
    fake = admin_world.procountor
    assert (fake.invoices(), fake.partners(), fake.products()) == ([], [], [])
    assert _writes(fake) == []


@then("the page shows no runs and nothing waiting")
def _nothing_stored(admin_world: AdminWorld, admin: User) -> None:
    assert _glance(admin_world, admin)["last_runs"] == []
    assert waiting_items(admin, admin_world.organization_id) == []


# ---------------------------------------------------------------- other organizations and the operators


@then("every attempt is refused, saying the admin may see only their own organization")
def _all_refused(attempts: dict[str, Any]) -> None:
    refused = {"detail": f"you may see only organization {attempts['own']}"}
    wrong = {
        attempt: f"{answer.status_code} {answer.text}"
        for attempt, answer in attempts["answers"].items()
        if answer.status_code != 403 or answer.json() != refused
    }
    assert wrong == {}, f"not refused as they should be: {wrong}"


@then(parsers.parse('the integration of "{name}" is as it was, and it has no new runs'))
def _other_untouched(admin_world: AdminWorld, attempts: dict[str, Any], name: str) -> None:
    org = admin_world.organizations[name]
    operator = admin_world.sign_in(org, Role.OPERATOR)
    assert integration_of(operator, org) == attempts["before"]
    glance = operator.call("GET", f"/organizations/{org}/status").json()
    assert (glance["last_runs"], glance["run_queued"]) == ([], False), glance
    assert _writes(admin_world.companies[org]) == []


@then(parsers.parse('the admin of "{name}" may not see the list of every organization'))
def _no_overview(admin_world: AdminWorld, name: str) -> None:
    answer = admin_world.sign_in(admin_world.organizations[name]).call("GET", "/organizations")
    assert answer.status_code == 403, answer.text


@then("the overview lists, in this order:")
def _overview_order(admin_world: AdminWorld, overview: list[dict[str, Any]], datatable: list[list[str]]) -> None:
    shown = [(o["organization_name"], "yes" if o["attention"] else "no") for o in overview]
    assert shown == [(row["organization"], row["needs attention"]) for row in table_rows(datatable)], overview


@then(parsers.parse('the overview says of "{name}" to create a new API key in Procountor'))
def _overview_reason(overview: list[dict[str, Any]], name: str) -> None:
    (organization,) = [o for o in overview if o["organization_name"] == name]
    assert any("create a new API key in Procountor" in r for r in organization["reasons"]), organization

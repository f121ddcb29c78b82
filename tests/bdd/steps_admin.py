"""Steps of Settings → Integrations: Spotilla's rows, and what the admin and the operators do on the pages.

What a person does on a page is the request the page makes (the JSON API, with a token); steps that press a button
which starts a run wait, by asking the state at a glance, until the run has finished.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from pytest_bdd import given, parsers, when

from spotilla_procountor.adapters.web.auth import Role
from spotilla_procountor.domain.model import TransferPolicy

from .admin_world import API_KEY, IBAN, AdminWorld, User, today
from .steps_spotilla import POLICIES, table_rows

REFUSED_KEY = "a-key-from-another-company-51a0"


def known(words: dict[str, Any], word: str, what: str) -> Any:
    """The meaning of a word of the feature; an unknown one fails naming it and the words that are known."""
    if word not in words:
        raise AssertionError(f"unknown {what} {word!r}; known: {', '.join(map(repr, words))}")
    return words[word]


def integration_of(user: User, organization_id: int) -> dict[str, Any]:
    answer = user.call("GET", f"/organizations/{organization_id}/integration")
    assert answer.status_code == 200, answer.text
    return answer.json()


def waiting_items(user: User, organization_id: int, state: str | None = None) -> list[dict[str, Any]]:
    answer = user.call("GET", f"/organizations/{organization_id}/items" + (f"?state={state}" if state else ""))
    assert answer.status_code == 200, answer.text
    return answer.json()


def codes(item: dict[str, Any]) -> list[str]:
    return [code for reason in item["reasons"] for code in reason["code"].split(",")]


# ---------------------------------------------------------------- Spotilla


@given(parsers.parse('the organization "{name}" uses Spotilla'))
def _organization(admin_world: AdminWorld, name: str) -> None:
    admin_world.add_organization(name)


@given("Spotilla's product register has:")
def _products(admin_world: AdminWorld, datatable: list[list[str]]) -> None:
    for row in table_rows(datatable):
        product_id = admin_world.spotilla.product(
            admin_world.organization_id, row["code"], row["name"], row["unit"],
            Decimal(row["unit price"]), Decimal(row["VAT %"]),
        )  # fmt: skip
        admin_world.ids[("product", row["code"])] = admin_world.ids[("product", row["name"])] = product_id


@given("Spotilla's customer register has:")
@given("Spotilla's customer register also has:")
def _customers(admin_world: AdminWorld, datatable: list[list[str]]) -> None:
    for row in table_rows(datatable):
        customer_id = admin_world.spotilla.customer(
            admin_world.organization_id, row["name"], row["business ID"] or None
        )
        admin_world.ids[("customer", row["name"])] = customer_id


@given(parsers.parse('the task "{title}" for "{customer}" was completed today, with:'))
@when(parsers.parse('the task "{title}" for "{customer}" is completed today, with:'))
def _completed_task(admin_world: AdminWorld, title: str, customer: str, datatable: list[list[str]]) -> None:
    used = [(admin_world.id_of("product", r["product"]), Decimal(r["quantity"])) for r in table_rows(datatable)]
    customer_id = admin_world.id_of("customer", customer)
    admin_world.ids[("task", title)] = admin_world.spotilla.completed_task(
        admin_world.organization_id, title, customer_id, used
    )


@when(parsers.parse('the business ID of "{customer}" is set to "{business_id}" in Spotilla'))
def _business_id_fixed(admin_world: AdminWorld, customer: str, business_id: str) -> None:
    admin_world.spotilla.set_business_id(admin_world.id_of("customer", customer), business_id)


# ---------------------------------------------------------------- switching on, changing, switching off


@given("the organization's admin has opened Settings → Integrations", target_fixture="admin")
def _admin_signed_in(admin_world: AdminWorld) -> User:
    admin = admin_world.sign_in(admin_world.organization_id)
    page = integration_of(admin, admin_world.organization_id)
    assert (page["configured"], page["enabled"]) == (False, False), page
    return admin


def _switch_on(admin_world: AdminWorld, admin: User, **change: Any) -> httpx.Response:
    """The switch-on form, filled in; the start day a week back, so that tasks completed today are invoiced."""
    body = {
        "api_key": API_KEY,
        "environment": "test",
        "policy": TransferPolicy.ALL_COMPLETED,
        "bank_account": IBAN,
        "tasks_completed_from": (today() - timedelta(days=7)).isoformat(),
    }
    return admin.call("PUT", f"/organizations/{admin_world.organization_id}/integration", body | change)


@given("the admin has switched the integration on", target_fixture="answer")
@when("the admin switches the integration on with the organization's Procountor API key", target_fixture="answer")
def _switched_on(admin_world: AdminWorld, admin: User) -> httpx.Response:
    answer = _switch_on(admin_world, admin)
    assert answer.status_code == 200, answer.text
    return answer


@when("the admin switches the integration on with an API key Procountor does not accept", target_fixture="answer")
def _switched_on_with_refused_key(admin_world: AdminWorld, admin: User) -> httpx.Response:
    admin_world.never_shown.append(REFUSED_KEY)  # a key typed in is never shown back, even a wrong one
    return _switch_on(admin_world, admin, api_key=REFUSED_KEY)


@when(parsers.parse('the admin switches the integration on with the bank account "{account}"'), target_fixture="answer")
def _switched_on_with_account(admin_world: AdminWorld, admin: User, account: str) -> httpx.Response:
    return _switch_on(admin_world, admin, bank_account=account)


@when(
    parsers.parse('the admin changes the policy to "{which}", without giving the API key again'),
    target_fixture="answer",
)
def _policy_changed(admin_world: AdminWorld, admin: User, which: str) -> httpx.Response:
    body = {"policy": known(POLICIES, which, "policy")}
    answer = admin.call("PUT", f"/organizations/{admin_world.organization_id}/integration", body)
    assert answer.status_code == 200, answer.text
    return answer


@when("the admin switches the integration off")
def _switched_off(admin_world: AdminWorld, admin: User) -> None:
    answer = admin.call("DELETE", f"/organizations/{admin_world.organization_id}/integration")
    assert answer.status_code == 200, answer.text


@when("the admin switches the integration on again, without giving the API key")
def _switched_on_again(admin_world: AdminWorld, admin: User) -> None:
    answer = admin.call("PUT", f"/organizations/{admin_world.organization_id}/integration", {})
    assert answer.status_code == 200, answer.text


# ---------------------------------------------------------------- runs


def _ask_for_run(admin: User, organization_id: int) -> httpx.Response:
    return admin.call("POST", f"/organizations/{organization_id}/sync")


def _run_now(admin_world: AdminWorld, user: User, organization_id: int) -> dict[str, Any]:
    answer = _ask_for_run(user, organization_id)
    assert (answer.status_code, answer.json()["outcome"]) == (202, "queued"), answer.text
    return admin_world.wait_for_runs(user, organization_id)


@given("the admin has pressed Run now", target_fixture="glance")
@when("the admin presses Run now", target_fixture="glance")
def _pressed_run_now(admin_world: AdminWorld, admin: User) -> dict[str, Any]:
    return _run_now(admin_world, admin, admin_world.organization_id)


@given("a run of the organization is under way, waiting for Procountor to answer")
def _run_under_way(admin_world: AdminWorld, admin: User) -> None:
    admin_world.procountor.hold()
    answer = _ask_for_run(admin, admin_world.organization_id)
    assert (answer.status_code, answer.json()["outcome"]) == (202, "queued"), answer.text
    admin_world.wait_until_held(admin_world.procountor)


@given("the admin has asked for another run after it")
def _another_run_asked(admin_world: AdminWorld, admin: User) -> None:
    answer = _ask_for_run(admin, admin_world.organization_id)
    assert (answer.status_code, answer.json()["outcome"]) == (202, "queued"), answer.text


@when("the admin presses Run now again", target_fixture="answer")
def _pressed_run_now_again(admin_world: AdminWorld, admin: User) -> httpx.Response:
    return _ask_for_run(admin, admin_world.organization_id)


@when("Procountor answers again and the runs have finished", target_fixture="glance")
def _runs_finished(admin_world: AdminWorld, admin: User) -> dict[str, Any]:
    admin_world.procountor.release()
    return admin_world.wait_for_runs(admin, admin_world.organization_id)


@when("the admin asks for a preview", target_fixture="preview")
def _preview(admin_world: AdminWorld, admin: User) -> dict[str, Any]:
    answer = admin.call("POST", f"/organizations/{admin_world.organization_id}/sync?dry_run=true")
    assert answer.status_code == 200, answer.text
    return answer.json()


@when(parsers.parse('the admin presses Retry on the task "{title}"'), target_fixture="glance")
def _retry_task(admin_world: AdminWorld, admin: User, title: str) -> dict[str, Any]:
    org, task_id = admin_world.organization_id, admin_world.id_of("task", title)
    answer = admin.call("POST", f"/organizations/{org}/items/task/{task_id}/retry")
    assert answer.status_code == 202 and answer.json()["requeued"] == 1, answer.text
    return admin_world.wait_for_runs(admin, org)


# ---------------------------------------------------------------- other organizations and the operators


@given(parsers.parse('the organization "{name}" also uses the integration, in a Procountor company of its own'))
def _other_organization(admin_world: AdminWorld, name: str) -> None:
    admin_world.other_company(admin_world.add_organization(name))


@given(parsers.parse('Procountor has revoked the API key of "{name}", and its last run failed'))
def _other_key_revoked(admin_world: AdminWorld, name: str) -> None:
    org = admin_world.organizations[name]
    company = admin_world.companies[org]
    company.credentials = replace(company.credentials, api_key="a-key-made-after-the-old-was-revoked")
    glance = _run_now(admin_world, admin_world.sign_in(org, Role.OPERATOR), org)
    assert glance["last_runs"][0]["status"] == "FAILED", glance


@when("Spotilla's operator opens the overview of every organization", target_fixture="overview")
def _overview(admin_world: AdminWorld) -> list[dict[str, Any]]:
    answer = admin_world.sign_in(admin_world.organization_id, Role.OPERATOR).call("GET", "/organizations")
    assert answer.status_code == 200, answer.text
    return answer.json()


ATTEMPTS = {
    "see the settings": ("GET", "/integration", None),
    "see the state at a glance": ("GET", "/status", None),
    "see the items that wait": ("GET", "/items", None),
    "see the runs": ("GET", "/runs", None),
    "see a run": ("GET", "/runs/1", None),
    "change the settings": ("PUT", "/integration", {"policy": TransferPolicy.WITH_ORDER_NUMBER}),
    "switch the integration off": ("DELETE", "/integration", None),
    "press Run now": ("POST", "/sync", None),
    "ask for a preview": ("POST", "/sync?dry_run=true", None),
    "retry a task": ("POST", "/items/task/1/retry", None),
    "retry everything that failed": ("POST", "/retry-failed", None),
}


@when(parsers.parse('the admin of "{own}" tries to reach "{other}":'), target_fixture="attempts")
def _reach_other(admin_world: AdminWorld, own: str, other: str, datatable: list[list[str]]) -> dict[str, Any]:
    """Each attempt as the page would make it; the other organization's settings are read first, to compare."""
    admin = admin_world.sign_in(admin_world.organizations[own])
    org = admin_world.organizations[other]
    before = integration_of(admin_world.sign_in(org, Role.OPERATOR), org)
    answers = {}
    for (attempt,) in datatable[1:]:
        method, path, body = known(ATTEMPTS, attempt, "attempt")
        answers[attempt] = admin.call(method, f"/organizations/{org}{path}", body)
    return {"own": admin_world.organizations[own], "other": org, "before": before, "answers": answers}

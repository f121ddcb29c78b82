"""Steps of Settings → Integrations: Spotilla's rows, and what the admin and the operators do on the pages.

What a person does on a page is the request the page makes (the JSON API, with a token); steps that press a button
which starts a run wait, by asking the state at a glance, until the run has finished.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from pytest_bdd import given, parsers, when

from spotilla_procountor.domain.model import TransferPolicy

from .admin_world import API_KEY, IBAN, AdminWorld, User, today
from .steps_spotilla import table_rows

REFUSED_KEY = "a-key-from-another-company-51a0"


def integration_of(user: User, organization_id: int) -> dict[str, Any]:
    answer = user.call("GET", f"/organizations/{organization_id}/integration")
    assert answer.status_code == 200, answer.text
    return answer.json()


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


# ---------------------------------------------------------------- other organizations and the operators

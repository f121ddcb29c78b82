"""The admin's whole way through the Procountor integration page, in Chromium, against the running service: switch
on with the API key, preview, run now, see the invoices in Procountor, fix a held-back customer and retry it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import inspect, text
from web_world import API_KEY, IBAN, ORG, Stack, fix_customer

from spotilla_procountor.domain.state import EntityKind, RecordState

pytestmark = [pytest.mark.loopback, pytest.mark.slow]


def database_contents(stack: Stack) -> dict[str, list[tuple]]:
    """Every row of every table, to show that something wrote nothing."""
    tables = inspect(stack.engine).get_table_names()
    with stack.engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{t}"'))), key=repr) for t in tables}


def procountor_contents(stack: Stack) -> tuple[list, list, list]:
    return stack.fake.partners(), stack.fake.products(), stack.fake.invoices()


def switch_on(page: Page, stack: Stack) -> None:
    page.get_by_label("Procountorin API-avain").fill(API_KEY)
    page.get_by_label("Pankkitili (IBAN)").fill("FI49 5000 9420 0287 30")
    page.get_by_label("Siirrä työtilaukset, jotka on valmistuneet alkaen").fill("2000-01-01")
    page.get_by_role("button", name="Ota käyttöön").click()
    expect(page.locator(".state-on")).to_contain_text("Päällä")


def test_an_admin_switches_on_previews_runs_and_retries_a_fixed_customer(
    any_stack: Stack, open_page, screenshots: Path
) -> None:
    stack = any_stack
    page = open_page("fi-FI")

    page.goto(stack.launch_url())
    assert page.url == f"{stack.url}/organizations/{ORG}/integration"  # the token left the address bar
    expect(page.get_by_role("heading", level=1)).to_have_text("Procountor-integraatio")
    expect(page.get_by_text("Pois päältä")).to_be_visible()
    page.screenshot(path=screenshots / "admin-off-fi.png", full_page=True)

    switch_on(page, stack)
    config = stack.container.tenants().config(ORG)
    assert (config.enabled, config.bank_account, config.environment) == (True, IBAN, "test")
    assert API_KEY not in page.content()

    database, procountor = database_contents(stack), procountor_contents(stack)
    page.get_by_role("button", name="Esikatsele").click()
    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(preview).to_contain_text(re.compile(r"Luotaisiin [1-9]\d*, päivitettäisiin 0 ja pidätettäisiin [1-9]"))
    expect(preview.locator("tr", has_text="BUSINESS_ID_MISSING").first).to_contain_text("Asiakkaalla ei ole Y-tunnusta")
    page.screenshot(path=screenshots / "preview.png", full_page=True)
    assert database_contents(stack) == database
    assert procountor_contents(stack) == procountor
    assert stack.fake.invoices() == []

    page.get_by_role("button", name="Aja nyt").click()
    expect(page.locator("#runs tbody tr")).to_have_count(1, timeout=60_000)  # the page reloads when the run ends
    assert stack.fake.invoices()
    held = page.locator(f'#held-back tr[data-item="customer-{stack.held_back_customer}"]')
    expect(held).to_contain_text("Asiakkaalla ei ole Y-tunnusta; lisää se Spotillassa. BUSINESS_ID_MISSING")
    expect(page.locator(f'#held-back tr[data-item="task-{stack.held_back_task}"]')).to_be_visible()
    page.screenshot(path=screenshots / "admin-on-fi.png", full_page=True)

    business_id = fix_customer(stack, stack.held_back_customer)
    held.get_by_role("button").click()
    expect(page.locator("#runs tbody tr")).to_have_count(2, timeout=60_000)
    record = stack.container.state().records(ORG, EntityKind.TASK, [stack.held_back_task])[stack.held_back_task]
    assert record.state == RecordState.LINKED
    invoice = next(i for i in stack.fake.invoices() if i["id"] == record.procountor_id)
    assert invoice["counterParty"]["identifier"] == business_id
    expect(page.locator(f'#held-back tr[data-item="customer-{stack.held_back_customer}"]')).to_have_count(0)

    page.get_by_role("link", name=re.compile(r"^Ajo \d+$")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Ajo \d+$"))
    expect(page.locator("section", has_text="Laskut")).to_contain_text("Luotu")
    page.screenshot(path=screenshots / "run.png", full_page=True)

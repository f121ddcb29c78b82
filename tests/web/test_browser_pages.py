"""The pages in Chromium: both languages, the keyboard alone, field errors next to their fields, switching off with
a confirmation, the operators' overview, and an admin kept to its own organization."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from web_world import API_KEY, IBAN, ORG, OTHER_ORG, Stack, fix_customer

from spotilla_procountor.adapters.web.auth import Role
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data

pytestmark = [pytest.mark.loopback]


def switched_on_with_a_run(stack: Stack) -> None:
    """Organization 1 switched on (as its admin would in the page) and run once."""
    stack.container.tenants().enable(
        ORG, API_KEY, environment="test", bank_account=IBAN, tasks_completed_from=date(2000, 1, 1)
    )
    stack.container.sync_service().sync(ORG)


def focused(page: Page) -> str:
    """The focused element: its id, else its text."""
    return page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()")


def tab_until(page: Page, target: str, key: str = "Tab", limit: int = 80) -> list[str]:
    """Presses Tab (or `key`) until `target` (an id or a text) has the focus; every stop on the way, without
    repeats."""
    stops: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        stop = focused(page)
        if not stops or stops[-1] != stop:  # a date input's day, month and year are one control
            stops.append(stop)
        if stop == target:
            return stops
    raise AssertionError(f"Tab never reached {target!r}; it went {stops}")


def test_the_pages_speak_english_to_a_browser_that_prefers_it(sqlite_stack: Stack, open_page, screenshots: Path):
    page = open_page("en-GB")
    page.goto(sqlite_stack.launch_url())
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Procountor integration")
    expect(page.get_by_label("Procountor API key")).to_be_visible()
    expect(page.get_by_role("button", name="Switch on")).to_be_visible()
    expect(page.get_by_text("Basics → API client keys → New API key")).to_be_visible()
    expect(page.locator("#integration-client-id")).to_have_text("web-client")
    page.screenshot(path=screenshots / "admin-off-en.png", full_page=True)

    switched_on_with_a_run(sqlite_stack)
    page.reload()
    expect(page.get_by_role("button", name="Run now")).to_be_visible()
    expect(page.get_by_role("heading", name="Held back")).to_be_visible()
    expect(page.locator("#held-back")).to_contain_text("The customer has no business ID (Y-tunnus); add it in")
    expect(page.locator("#runs")).to_contain_text("Succeeded")
    page.screenshot(path=screenshots / "admin-on-en.png", full_page=True)


def test_the_switch_on_form_is_used_with_the_keyboard_alone(sqlite_stack: Stack, open_page) -> None:
    page = open_page()
    page.goto(sqlite_stack.launch_url())

    assert tab_until(page, "Siirry sisältöön") == ["Siirry sisältöön"]  # the skip link comes first
    page.keyboard.press("Enter")
    assert focused(page) == "main"
    every_control = ["api_key", "environment-test", "policy-all", "bank_account", "tasks_completed_from"]
    assert tab_until(page, "Ota käyttöön") == [*every_control, "Ota käyttöön"]
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus shows

    backwards = tab_until(page, "policy-all", key="Shift+Tab")
    assert backwards == ["tasks_completed_from", "bank_account", "policy-all"]
    page.keyboard.press("ArrowDown")  # radio buttons choose with the arrow keys
    expect(page.locator("#policy-order")).to_be_checked()
    assert tab_until(page, "api_key", key="Shift+Tab") == ["environment-test", "api_key"]
    page.keyboard.type(API_KEY)
    tab_until(page, "bank_account")
    page.keyboard.type("FI49 5000 9420 0287 30")
    page.keyboard.press("Enter")  # submits the form from a text field

    expect(page.locator(".state-on")).to_contain_text("Päällä")
    config = sqlite_stack.container.tenants().config(ORG)
    assert (config.enabled, config.policy, config.bank_account) == (True, "WITH_ORDER_NUMBER", IBAN)


def test_a_bad_iban_is_said_next_to_its_field_and_nothing_is_stored(
    sqlite_stack: Stack, open_page, screenshots: Path
) -> None:
    page = open_page()
    page.goto(sqlite_stack.launch_url())
    page.get_by_label("Procountorin API-avain").fill(API_KEY)
    page.get_by_label("Pankkitili (IBAN)").fill("FI00 1234 5678 90")
    page.get_by_role("button", name="Ota käyttöön").click()

    error = page.locator("#bank_account-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Tämä ei ole kelvollinen IBAN; tarkista tilinumero.")
    field = page.get_by_label("Pankkitili (IBAN)")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "bank_account-hint bank_account-error")
    expect(field).to_be_focused()
    expect(page.get_by_role("alert")).to_have_text("Tarkista alla merkityt kentät.")
    expect(page.locator("#api_key-error")).to_be_hidden()
    assert sqlite_stack.container.state().settings_row(ORG) is None
    page.screenshot(path=screenshots / "admin-field-error-fi.png", full_page=True)


def test_settings_change_without_the_api_key_and_everything_waiting_is_retried(sqlite_stack: Stack, open_page):
    stack = sqlite_stack
    switched_on_with_a_run(stack)
    page = open_page()
    page.goto(stack.launch_url())

    page.get_by_text("Muuta asetuksia").click()
    expect(page.get_by_label("Procountorin API-avain")).to_have_value("")  # never filled in with the stored key
    page.get_by_label("Vain työtilaukset, joilla on tilausnumero").check()
    page.get_by_role("button", name="Tallenna asetukset").click()
    expect(page.get_by_text("Asetukset tallennettiin.")).to_be_visible()
    expect(page.locator("dl.summary")).to_contain_text("Vain työtilaukset, joilla on tilausnumero")
    assert stack.container.tenants().config(ORG).policy == "WITH_ORDER_NUMBER"

    fix_customer(stack, stack.held_back_customer)
    page.get_by_role("button", name="Yritä kaikkia epäonnistuneita ja pidätettyjä uudelleen").click()
    expect(page.locator("#runs tbody tr")).to_have_count(2, timeout=60_000)
    expect(page.locator(f'#held-back tr[data-item="customer-{stack.held_back_customer}"]')).to_have_count(0)


def test_switching_off_asks_first_and_is_done_with_the_keyboard(sqlite_stack: Stack, open_page) -> None:
    switched_on_with_a_run(sqlite_stack)
    page = open_page()
    page.goto(sqlite_stack.launch_url())

    tab_until(page, "Poista integraatio käytöstä…")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert focused(page) == "Peruuta"  # the harmless choice has the focus
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    assert sqlite_stack.container.tenants().config(ORG).enabled

    page.get_by_role("button", name="Poista integraatio käytöstä…").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "Poista käytöstä"
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name="Ota käyttöön")).to_be_visible()
    assert not sqlite_stack.container.tenants().config(ORG).enabled
    expect(page.get_by_text("Integraatio on poistettu käytöstä.")).to_be_visible()


def test_the_operators_see_the_organization_needing_attention_first(
    sqlite_stack: Stack, open_page, screenshots: Path
) -> None:
    stack = sqlite_stack
    switched_on_with_a_run(stack)
    other = "Toinen Huolto Oy"
    generate_demo_data(stack.engine, organization_id=OTHER_ORG, organization_name=other, size=DemoSize(2, 1, 2))
    # Organization 2's API key was revoked in Procountor after it was stored: its run fails.
    fake_url = stack.container.settings().procountor_test_url
    tenants = stack.container.tenants()
    tenants.enable(OTHER_ORG, "revoked-api-key", environment=fake_url, bank_account=IBAN, verify=False)
    assert str(stack.container.sync_service().sync(OTHER_ORG).status) == "FAILED"

    page = open_page()
    page.goto(stack.launch_url(role=Role.OPERATOR))
    assert page.url == f"{stack.url}/operator"
    rows = page.locator("table.organizations tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-organization", str(OTHER_ORG))
    expect(rows.nth(0)).to_contain_text("Vaatii huomiota")
    expect(rows.nth(1)).to_have_attribute("data-organization", str(ORG))
    expect(rows.nth(1)).to_contain_text("Kunnossa")
    page.screenshot(path=screenshots / "operator.png", full_page=True)

    rows.nth(0).get_by_role("link", name="Toinen Huolto Oy (2)").click()
    assert page.url == f"{stack.url}/organizations/{OTHER_ORG}/integration"
    expect(page.get_by_role("heading", name="Vaatii huomiota")).to_be_visible()
    page.get_by_role("link", name="Kaikki organisaatiot").click()
    assert page.url == f"{stack.url}/operator"


def test_an_admin_cannot_open_another_organizations_page_nor_the_overview(sqlite_stack: Stack, open_page) -> None:
    generate_demo_data(sqlite_stack.engine, organization_id=OTHER_ORG, size=DemoSize(1, 1, 1))
    page = open_page()
    page.goto(sqlite_stack.launch_url(ORG))

    for path in (f"/organizations/{OTHER_ORG}/integration", "/operator"):
        answer = page.goto(f"{sqlite_stack.url}{path}")
        assert answer is not None and answer.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Ei käyttöoikeutta")
    answer = page.goto(f"{sqlite_stack.url}/organizations/{ORG}/integration")
    assert answer is not None and answer.status == 200

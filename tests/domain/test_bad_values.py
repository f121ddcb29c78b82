"""Values that cannot be read or make no sense hold back only their own item, with a reason naming them (issue 12)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from spotilla_procountor.domain.codes import clean_text, shortened
from spotilla_procountor.domain.create_once import Create, HoldBack
from spotilla_procountor.domain.eligibility import TaskContext, customer_reasons, reasons_held_back
from spotilla_procountor.domain.invoicing import InvoiceTerms, draft_invoice
from spotilla_procountor.domain.master_data import new_partner, new_product
from spotilla_procountor.domain.model import IntegrationSettings, TaskProduct, Unreadable
from spotilla_procountor.domain.procountor import NewPartner, NewProduct
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.sync_invoices import InvoiceInputs, plan_invoices

from .builders import INSTALLATION, ORG, PRODUCTS, SETTINGS, TRAVEL, customer, task

NOW = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
VATS = frozenset(Decimal(v) for v in ("25.5", "14", "13.5", "10", "0"))
HUGE = "Asennustyö " * 1000  # 11,000 characters


def judged(the_task=None, **changes: object) -> list[Reason]:
    values: dict[str, object] = {"customer": customer(), "products": PRODUCTS, "settings": SETTINGS, "now": NOW}
    return reasons_held_back(the_task or task(), TaskContext(**{**values, **changes}))  # type: ignore[arg-type]


def codes(reasons: list[Reason]) -> list[ReasonCode]:
    return [r.code for r in reasons]


def using(quantity: object, product_id: int = 1) -> object:
    return task(products=(TaskProduct(1, product_id, quantity),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("quantity", "shown"),
    [(Decimal("NaN"), "NaN"), (Decimal("Infinity"), "Infinity"), (None, "empty"), (Unreadable("kolme"), "'kolme'")],
)
def test_a_quantity_that_is_not_a_number_holds_the_task_back_naming_the_value(quantity: object, shown: str) -> None:
    reasons = judged(using(quantity))
    assert codes(reasons) == [ReasonCode.QUANTITY_INVALID]
    assert f"The quantity of Installation work on the task is {shown}, which is not a number" in reasons[0].message


@pytest.mark.parametrize("price", [Decimal("NaN"), Decimal("-Infinity"), Unreadable("ilmainen"), None])
def test_a_price_that_is_not_a_number_holds_back_a_task_using_the_product(price: object) -> None:
    products = {**PRODUCTS, 1: replace(INSTALLATION, unit_price=price)}
    assert codes(judged(using(Decimal(1), 1), products=products)) == [ReasonCode.PRICE_INVALID]
    assert judged(using(Decimal(1), 2), products=products) == []  # a task using only another product goes on


def test_a_vat_percent_that_cannot_be_read_names_the_field() -> None:
    products = {**PRODUCTS, 1: replace(INSTALLATION, vat_percent=Unreadable("paljon"))}
    [reason] = judged(using(Decimal(1)), products=products)
    assert reason.code == ReasonCode.VALUE_UNREADABLE
    assert reason.message.startswith("The VAT percent of product Installation work is 'paljon'")


def test_a_completed_task_without_a_completion_time_is_held_back() -> None:
    assert codes(judged(task(completed_at=None))) == [ReasonCode.COMPLETION_TIME_MISSING]


def test_a_completion_time_that_cannot_be_read_is_held_back() -> None:
    [reason] = judged(task(completed_at=Unreadable("eilen illalla")))
    assert reason.code == ReasonCode.VALUE_UNREADABLE
    assert "completion time of the task is 'eilen illalla'" in reason.message


def test_a_completion_time_in_the_future_beyond_the_clock_skew_is_held_back() -> None:
    assert judged(task(completed_at=NOW + timedelta(minutes=10))) == []  # within the default skew of 10 minutes
    [reason] = judged(task(completed_at=NOW + timedelta(days=400)))
    assert reason.code == ReasonCode.COMPLETION_TIME_IN_FUTURE
    assert "2026-04-18 13:00 Finnish time" in reason.message  # summer time
    tighter = IntegrationSettings(ORG, completion_clock_skew_minutes=1)
    assert codes(judged(task(completed_at=NOW + timedelta(minutes=2)), settings=tighter)) == [
        ReasonCode.COMPLETION_TIME_IN_FUTURE
    ]


def test_a_quantity_above_the_ceiling_is_held_back_with_a_sentence_a_person_can_act_on() -> None:
    products = {1: replace(INSTALLATION, name="Asennustyö", unit_price=Decimal("1.00"))}
    [reason] = judged(using(Decimal("999999999.999")), products=products)
    assert reason.message == (
        "The task's quantity 999999999.999 of Asennustyö is above this organization's ceiling of 10000; "
        "correct it in Spotilla."
    )
    assert judged(using(Decimal("10000")), products=products) == []


def test_a_draft_total_above_the_ceiling_is_held_back() -> None:
    # 2,000 h × 49.90 € = 99,800.00 € + 25.5 % VAT = 125,249.00 €: above the default 100,000 € with VAT
    [reason] = judged(using(Decimal("2000")))
    assert reason.code == ReasonCode.TOTAL_ABOVE_CEILING
    assert reason.facts == {"total": "125249.00", "ceiling": "100000.00"}
    higher = IntegrationSettings(ORG, invoice_total_ceiling=Decimal(200000))
    assert judged(using(Decimal("2000")), settings=higher) == []


def test_a_payment_term_that_cannot_be_read_holds_the_customer_back() -> None:
    [reason] = customer_reasons(customer(payment_term_days=Unreadable("pian")))
    assert reason.code == ReasonCode.VALUE_UNREADABLE
    assert reason.message.startswith("The payment term of customer Rakennus Oy is 'pian'")


def test_no_reason_repeats_a_name_of_thousands_of_characters() -> None:
    products = {**PRODUCTS, 1: replace(INSTALLATION, name=HUGE, unit_price=Decimal("NaN"))}
    problems = {1: Reason.of(ReasonCode.PRODUCT_NOT_CREATABLE, product=HUGE, detail="too long")}
    huge_id = customer(business_id=HUGE)
    reasons = [
        *judged(using(Decimal(0)), products=products, product_problems=problems, customer=huge_id),
        *customer_reasons(huge_id),
        new_product(replace(INSTALLATION, name=HUGE, unit=HUGE), VATS),
    ]
    assert len(reasons) == 6
    assert all(len(r.message) < 300 for r in reasons), [len(r.message) for r in reasons]


def test_values_are_shortened_with_an_ellipsis() -> None:
    assert shortened("x" * 100) == "x" * 39 + "…"
    assert shortened("lyhyt") == "lyhyt"


def test_control_characters_are_cleaned_from_text() -> None:
    assert clean_text("Rivin\nvaihto\tja\x1bESC\x00 Oy \r\n") == "Rivin vaihto jaESC Oy"
    assert clean_text(None) is None


def test_names_and_texts_are_sent_without_control_characters() -> None:
    odd = customer(name="Rakennus\nOy\x1b", street_address="Työmaantie\t5", email="info@rakennus.fi\n")
    partner = new_partner(odd)
    assert isinstance(partner, NewPartner)
    assert (partner.name, partner.address.street, partner.email) == ("Rakennus Oy", "Työmaantie 5", "info@rakennus.fi")
    product = new_product(replace(INSTALLATION, name="Asennus\x07työ\n"), VATS)
    assert isinstance(product, NewProduct) and product.name == "Asennustyö"
    draft = draft_invoice(
        task(order_number="PO\t77\x00"),
        odd,
        {1: replace(INSTALLATION, name="Asennus\ntyö"), 2: TRAVEL},
        partner_id=5,
        product_links={},
        terms=InvoiceTerms(now=NOW),
    )
    assert (draft.counterparty_name, draft.order_reference, draft.rows[0].product) == (
        "Rakennus Oy",
        "PO 77",
        "Asennus työ",
    )


@pytest.mark.parametrize(
    ("price", "vat", "code"),
    [
        (Decimal("NaN"), Decimal("25.5"), ReasonCode.PRICE_INVALID),
        (Unreadable("ilmainen"), Decimal("25.5"), ReasonCode.PRICE_INVALID),
        (Decimal("10"), Decimal("sNaN"), ReasonCode.VALUE_UNREADABLE),
    ],
)
def test_a_product_whose_price_or_vat_is_not_a_number_is_not_created(price: object, vat: object, code: str) -> None:
    wanted = new_product(replace(INSTALLATION, unit_price=price, vat_percent=vat), VATS)
    assert isinstance(wanted, Reason) and wanted.code == code


def _inputs(**changes: object) -> InvoiceInputs:
    values: dict[str, object] = {
        "settings": SETTINGS,
        "customers": {10: customer()},
        "products": PRODUCTS,
        "product_links": {1: 301, 2: 302},
        "product_problems": {},
        "partner_links": {10: 201},
        "customer_problems": {},
        "terms": InvoiceTerms(now=NOW),
        **changes,
    }
    return InvoiceInputs(**values)  # type: ignore[arg-type]


def test_a_product_no_task_uses_with_a_price_that_is_not_a_number_affects_no_one() -> None:
    unused = replace(INSTALLATION, id=3, unit_price=Decimal("NaN"))
    actions = plan_invoices([task()], {}, _inputs(products={**PRODUCTS, 3: unused}))
    assert [type(a) for a in actions] == [Create]


def test_bad_values_hold_back_only_their_own_task_and_never_reach_the_draft() -> None:
    tasks = [task(id=1), task(id=2, completed_at=None), task(id=3, products=(TaskProduct(9, 1, Decimal("NaN")),))]
    actions = plan_invoices(tasks, {}, _inputs())
    assert [(type(a), a.spotilla_id) for a in actions] == [(Create, 1), (HoldBack, 2), (HoldBack, 3)]


class _Exploding(dict):
    """A register whose one entry cannot be read: something no rule foresaw."""

    def get(self, key: object, default: object = None) -> object:
        if key == 66:
            raise KeyError("the unforeseen")
        return super().get(key, default)


def test_an_unforeseen_error_in_one_task_holds_back_that_task_and_the_others_go_on(caplog) -> None:
    customers = _Exploding({10: customer(), 66: customer(id=66)})
    tasks = [task(id=1), task(id=2, customer_id=66), task(id=3)]
    actions = plan_invoices(tasks, {}, _inputs(customers=customers))
    assert [(type(a), a.spotilla_id) for a in actions] == [(Create, 1), (HoldBack, 2), (Create, 3)]
    assert actions[1].reasons == (Reason.of(ReasonCode.INTERNAL_ERROR, error="KeyError"),)
    assert "task 2 could not be judged" in caplog.text and "Traceback" in caplog.text

"""The sales-invoice draft of a completed task: rows, totals, dates and addressee."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from spotilla_procountor.domain.invoicing import InvoiceTerms, draft_invoice, invoice_rows

from .builders import PRODUCTS, customer, task

NOW = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)


def draft(**changes: object):
    values: dict[str, object] = {"task": task(), "customer": customer(), "terms": InvoiceTerms(now=NOW), **changes}
    return draft_invoice(
        values["task"],
        values["customer"],
        PRODUCTS,
        partner_id=100001,  # type: ignore[arg-type]
        product_links={1: 200001, 2: 200002},
        terms=values["terms"],  # type: ignore[arg-type]
    )


def test_rows_are_products_times_quantities_with_register_prices() -> None:
    rows = invoice_rows(task(), PRODUCTS, {1: 200001})
    assert [(r.product, r.product_code, r.quantity, r.unit, r.unit_price, r.product_id) for r in rows] == [
        ("Installation work", "ASE-1", Decimal("1.5"), "HOUR", Decimal("49.90"), 200001),
        ("Travel", "KM", Decimal("12"), "KILOMETER", Decimal("0.59"), None),
    ]
    assert [(r.total_excluding_vat, r.vat_amount) for r in rows] == [
        (Decimal("74.85"), Decimal("19.09")),
        (Decimal("7.08"), Decimal("1.81")),
    ]


def test_totals_are_the_sums_of_the_rounded_rows() -> None:
    invoice = draft()
    assert (invoice.total_excluding_vat, invoice.vat_total, invoice.total) == (
        Decimal("81.93"),
        Decimal("20.90"),
        Decimal("102.83"),
    )


def test_the_invoice_is_unfinished_and_keyed_by_the_task() -> None:
    invoice = draft()
    assert (invoice.status, invoice.external_key, invoice.partner_id) == ("UNFINISHED", "SPOTILLA-1-T501", 100001)


@pytest.mark.parametrize(
    ("term", "default", "due"),
    [
        (21, 14, date(2025, 4, 4)),
        (None, 14, date(2025, 3, 28)),
        (None, 7, date(2025, 3, 21)),
        (0, 14, date(2025, 3, 14)),
    ],
)
def test_due_date_is_invoice_date_plus_the_customers_term_or_the_default(
    term: int | None, default: int, due: date
) -> None:
    invoice = draft(customer=customer(payment_term_days=term), terms=InvoiceTerms(NOW, default))
    assert (invoice.invoice_date, invoice.due_date) == (date(2025, 3, 14), due)


def test_delivery_date_is_the_finnish_day_of_completion() -> None:
    invoice = draft(task=task(completed_at=datetime(2025, 3, 9, 23, 30, tzinfo=UTC)))
    assert invoice.delivery_date == date(2025, 3, 10)


def test_the_order_number_is_trimmed_into_the_order_reference() -> None:
    assert draft(task=task(order_number="  PO-77 ")).order_reference == "PO-77"
    assert draft(task=task(order_number="   ")).order_reference is None


def test_the_counterparty_is_the_customer_with_its_standard_business_id() -> None:
    invoice = draft(customer=customer(name=" Rakennus Oy ", business_id="FI01120389"))
    assert (invoice.counterparty_name, invoice.counterparty_business_id) == ("Rakennus Oy", "0112038-9")


def test_an_ineligible_task_cannot_be_drafted() -> None:
    with pytest.raises(ValueError, match="not eligible"):
        draft(customer=replace(customer(), business_id="0112038-8"))

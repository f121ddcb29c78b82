"""Invoice rows and the sales-invoice draft for a completed task (flows 3 and 4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from spotilla_procountor.domain.business_id import parse_business_id
from spotilla_procountor.domain.codes import clean_text, procountor_country, procountor_unit
from spotilla_procountor.domain.keys import invoice_key, product_code
from spotilla_procountor.domain.model import Customer, Product, Task
from spotilla_procountor.domain.money import row_net_total, vat_of
from spotilla_procountor.domain.procountor import Address, InvoiceDraft, InvoiceRow

HELSINKI = ZoneInfo("Europe/Helsinki")


def finnish_date(moment: datetime) -> date:
    """The calendar day in Finland of a UTC moment (invoice and delivery dates are Finnish days)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps inside the service are timezone-aware UTC")
    return moment.astimezone(HELSINKI).date()


@dataclass(frozen=True, slots=True)
class InvoiceTerms:
    """What the invoice needs beyond the task: when it is made and the tenant's defaults."""

    now: datetime
    default_payment_term_days: int = 14


def invoice_rows(task: Task, products: Mapping[int, Product], links: Mapping[int, int]) -> tuple[InvoiceRow, ...]:
    """One row per task product: quantity from the task, price and VAT from the product register now."""
    rows = []
    for used in task.products:
        product = products[used.product_id]
        net = row_net_total(used.quantity, product.unit_price)
        rows.append(
            InvoiceRow(
                product_id=links.get(product.id),
                product=clean_text(product.name) or "",
                product_code=product_code(product.id, product.code),
                quantity=used.quantity,
                unit=procountor_unit(product.unit) or "NO_UNIT",
                unit_price=product.unit_price,
                vat_percent=product.vat_percent,
                total_excluding_vat=net,
                vat_amount=vat_of(net, product.vat_percent),
            )
        )
    return tuple(rows)


def _has_billing_address(customer: Customer) -> bool:
    return bool(customer.billing_street or customer.billing_city)


def address_country_code(customer: Customer) -> str | None:
    """The ISO country code of the address `customer_address` gives."""
    return (customer.billing_country or customer.country) if _has_billing_address(customer) else customer.country


def customer_address(customer: Customer) -> Address:
    """The counterparty's address on the invoice: billing address when Spotilla has one, else the site.

    Texts are cleaned of control characters (a line break typed into a name becomes a space).
    """
    if _has_billing_address(customer):
        return Address(
            name=clean_text(customer.name),
            street=clean_text(customer.billing_street),
            zip=clean_text(customer.billing_postal_code),
            city=clean_text(customer.billing_city),
            country=procountor_country(address_country_code(customer)),
        )
    return Address(
        name=clean_text(customer.name),
        street=clean_text(customer.street_address),
        zip=clean_text(customer.postal_code),
        city=clean_text(customer.city),
        country=procountor_country(customer.country),
    )


def draft_invoice(
    task: Task,
    customer: Customer,
    products: Mapping[int, Product],
    *,
    partner_id: int,
    product_links: Mapping[int, int],
    terms: InvoiceTerms,
) -> InvoiceDraft:
    """The UNFINISHED sales invoice for an eligible task (judged first); dates are Finnish calendar days.

    Texts are cleaned of control characters before they are sent.
    """
    business_id = parse_business_id(customer.business_id).business_id
    name = clean_text(customer.name)
    term = customer.payment_term_days if customer.payment_term_days is not None else terms.default_payment_term_days
    if not isinstance(task.completed_at, datetime) or business_id is None or not name or not isinstance(term, int):
        raise ValueError(f"task {task.id} is not eligible; judge eligibility before drafting")
    rows = invoice_rows(task, products, product_links)
    invoice_date = finnish_date(terms.now)
    net = sum((r.total_excluding_vat for r in rows), Decimal("0.00"))
    vat = sum((r.vat_amount for r in rows), Decimal("0.00"))
    return InvoiceDraft(
        external_key=invoice_key(task.organization_id, task.id),
        partner_id=partner_id,
        counterparty_name=name,
        counterparty_business_id=str(business_id),
        counterparty_address=customer_address(customer),
        billing_address=None,
        invoice_date=invoice_date,
        due_date=invoice_date + timedelta(days=max(term, 0)),
        delivery_date=finnish_date(task.completed_at),
        order_reference=clean_text(task.order_number) or None,
        rows=rows,
        einvoice_address=clean_text(customer.einvoice_address),
        einvoice_operator=clean_text(customer.einvoice_operator),
        email=clean_text(customer.billing_email or customer.email),
        total_excluding_vat=net,
        vat_total=vat,
        total=net + vat,
    )

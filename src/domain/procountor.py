"""Procountor's side as the sync rules see it: partners, products, invoices (plain data, no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as Procountor keeps it (country as Procountor's name, e.g. FINLAND)."""

    name: str | None = None
    street: str | None = None
    zip: str | None = None
    city: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Partner:
    """A Procountor business partner (liikekumppani) as read back from Procountor."""

    id: int
    name: str
    type: str
    business_id: str | None
    version: datetime | None = None
    address: Address | None = None
    billing_address: Address | None = None
    email: str | None = None
    einvoice_address: str | None = None
    einvoice_operator: str | None = None
    payment_term_days: int | None = None
    active: bool = True
    complete: bool = True
    """False for a search-result row (basic info only); True once read in full."""


@dataclass(frozen=True, slots=True)
class NewPartner:
    """A business partner of type CUSTOMER to create in Procountor."""

    name: str
    business_id: str
    address: Address
    billing_address: Address | None = None
    email: str | None = None
    phone: str | None = None
    einvoice_address: str | None = None
    einvoice_operator: str | None = None
    payment_term_days: int | None = None
    customer_number: str | None = None


@dataclass(frozen=True, slots=True)
class ProcountorProduct:
    """A product in Procountor's product register."""

    id: int
    name: str
    code: str | None
    unit: str | None = None
    price: Decimal | None = None
    vat_percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class NewProduct:
    """A sales product to create in Procountor; `unit` is Procountor's unit name (e.g. HOUR)."""

    name: str
    code: str
    unit: str
    price: Decimal
    vat_percent: Decimal
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    """One invoice row: the product, how much, at what net unit price and VAT percent."""

    product_id: int | None
    product: str
    product_code: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_percent: Decimal
    total_excluding_vat: Decimal
    vat_amount: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """A sales invoice to create in Procountor, always as UNFINISHED (keskeneräinen)."""

    external_key: str
    """Goes to Procountor's originalInvoiceNumber; finds the invoice again after an unknown outcome."""
    partner_id: int
    counterparty_name: str
    counterparty_business_id: str
    counterparty_address: Address
    billing_address: Address | None
    invoice_date: date
    due_date: date
    delivery_date: date
    order_reference: str | None
    rows: tuple[InvoiceRow, ...]
    einvoice_address: str | None = None
    einvoice_operator: str | None = None
    email: str | None = None
    currency: str = "EUR"
    status: str = "UNFINISHED"
    total_excluding_vat: Decimal = Decimal("0.00")
    vat_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    """What Procountor says of an invoice it holds."""

    id: int
    status: str
    external_key: str | None
    partner_id: int | None = None
    invoice_number: int | None = None
    rows: tuple[dict, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class CompanyIdentity:
    """The Procountor company (yritys) a set of credentials logs in to: the tenant is bound to one."""

    id: int
    name: str | None = None
    business_id: str | None = None

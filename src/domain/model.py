"""Spotilla's side as the sync rules see it: organizations, customers, products, tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class TaskStatus(StrEnum):
    """A work order's status in Spotilla (COMPLETED = valmistunut)."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A value Spotilla holds that cannot be read as what its column promises (text in a number or time column).

    Kept in place of the value, so the item it belongs to is held back with a reason naming it, and the
    rest of the batch is read on.
    """

    raw: str

    def __str__(self) -> str:
        return self.raw


class TransferPolicy(StrEnum):
    """Which completed tasks a tenant wants invoiced."""

    ALL_COMPLETED = "ALL_COMPLETED"
    WITH_ORDER_NUMBER = "WITH_ORDER_NUMBER"


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer (asiakas) in Spotilla's customer register."""

    id: int
    organization_id: int
    name: str | None
    business_id: str | None
    email: str | None = None
    phone: str | None = None
    street_address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = "FI"
    billing_street: str | None = None
    billing_postal_code: str | None = None
    billing_city: str | None = None
    billing_country: str | None = None
    billing_email: str | None = None
    einvoice_address: str | None = None
    einvoice_operator: str | None = None
    payment_term_days: int | Unreadable | None = None


@dataclass(frozen=True, slots=True)
class CustomerFields:
    """The customer fields Procountor owns once a customer is linked; Spotilla keeps site address and phone."""

    name: str | None
    business_id: str | None
    email: str | None
    billing_street: str | None
    billing_postal_code: str | None
    billing_city: str | None
    billing_country: str | None
    billing_email: str | None
    einvoice_address: str | None
    einvoice_operator: str | None
    payment_term_days: int | None


@dataclass(frozen=True, slots=True)
class Product:
    """A product in Spotilla's product register (tuoterekisteri); price is net of VAT."""

    id: int
    organization_id: int
    code: str | None
    name: str
    unit: str
    unit_price: Decimal | Unreadable
    vat_percent: Decimal | Unreadable


@dataclass(frozen=True, slots=True)
class TaskProduct:
    """A product used on a task, with the quantity used."""

    id: int
    product_id: int
    quantity: Decimal | Unreadable


@dataclass(frozen=True, slots=True)
class Task:
    """A work order (tehtävä) and the products used on it."""

    id: int
    organization_id: int
    customer_id: int | None
    title: str
    status: TaskStatus | str
    order_number: str | None = None
    completed_at: datetime | Unreadable | None = None
    description: str | None = None
    products: tuple[TaskProduct, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class IntegrationSettings:
    """A tenant's switch for the integration and how it wants tasks chosen."""

    organization_id: int
    enabled: bool = True
    policy: TransferPolicy = TransferPolicy.ALL_COMPLETED
    default_payment_term_days: int = 14
    has_bank_account: bool = True
    """Whether the organization's bank account (IBAN) is stored; invoices wait without one."""
    tasks_completed_from: date | None = None
    """Tasks completed (Helsinki day) before this day are never invoiced; None: no limit (tenants set up earlier)."""
    completion_clock_skew_minutes: int = 10
    """How far in the future a completion time may lie (clocks differ a little) before the task is held back."""
    quantity_ceiling: Decimal = Decimal("10000")
    """The largest quantity of one product on a task that is invoiced without a person checking it."""
    invoice_total_ceiling: Decimal = Decimal("100000.00")
    """The largest invoice total, VAT included, in euros, that is drafted without a person checking it."""

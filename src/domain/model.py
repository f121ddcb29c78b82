"""Spotilla's side as the sync rules see it: organizations, customers, products, tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class TaskStatus(StrEnum):
    """A work order's status in Spotilla (COMPLETED = valmistunut)."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


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
    payment_term_days: int | None = None


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
    unit_price: Decimal
    vat_percent: Decimal


@dataclass(frozen=True, slots=True)
class TaskProduct:
    """A product used on a task, with the quantity used."""

    id: int
    product_id: int
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Task:
    """A work order (tehtävä) and the products used on it."""

    id: int
    organization_id: int
    customer_id: int | None
    title: str
    status: TaskStatus | str
    order_number: str | None = None
    completed_at: datetime | None = None
    description: str | None = None
    products: tuple[TaskProduct, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class IntegrationSettings:
    """A tenant's switch for the integration and how it wants tasks chosen."""

    organization_id: int
    enabled: bool = True
    policy: TransferPolicy = TransferPolicy.ALL_COMPLETED
    default_payment_term_days: int = 14

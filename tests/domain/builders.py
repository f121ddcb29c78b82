"""Small builders of domain objects for the unit tests: a valid default, overridden per test."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from spotilla_procountor.domain.model import Customer, IntegrationSettings, Product, Task, TaskProduct, TaskStatus

ORG = 1
INSTALLATION = Product(1, ORG, "ASE-1", "Installation work", "h", Decimal("49.90"), Decimal("25.5"))
TRAVEL = Product(2, ORG, "KM", "Travel", "km", Decimal("0.59"), Decimal("25.5"))
PRODUCTS = {p.id: p for p in (INSTALLATION, TRAVEL)}
SETTINGS = IntegrationSettings(ORG)


def customer(**changes: object) -> Customer:
    base = Customer(
        10,
        ORG,
        "Rakennus Oy",
        "0112038-9",
        email="info@rakennus.fi",
        phone="040 123456",
        street_address="Työmaantie 5",
        postal_code="00500",
        city="Helsinki",
        country="FI",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def task(**changes: object) -> Task:
    base = Task(
        501,
        ORG,
        10,
        "Work order 501",
        TaskStatus.COMPLETED,
        order_number="PO-77",
        completed_at=datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        products=(TaskProduct(1, 1, Decimal("1.5")), TaskProduct(2, 2, Decimal("12"))),
    )
    return replace(base, **changes)  # type: ignore[arg-type]

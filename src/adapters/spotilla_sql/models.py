"""Spotilla's own tables, exactly as the database contract names them (see spotilla-database.md).

In production these tables belong to the Spotilla application and already exist; the migration
creates them only where they are missing (the embedded SQLite default, the demo, the tests).
`created_at`/`updated_at` get a server default (UTC now) so outside tools may leave them out.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spotilla_procountor.adapters.spotilla_sql.base import Base, UtcDateTime, utc_now

SPOTILLA_TABLES = ("organizations", "customers", "products", "tasks", "task_products")


def _created_at() -> Mapped[datetime]:
    return mapped_column(UtcDateTime(), nullable=False, server_default=utc_now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(UtcDateTime(), nullable=False, server_default=utc_now())


class OrganizationRow(Base):
    """A tenant: a company that uses Spotilla."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)


class CustomerRow(Base):
    """Spotilla's customer register (asiakas)."""

    __tablename__ = "customers"
    __table_args__ = (Index(None, "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    business_id: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    street_address: Mapped[str | None] = mapped_column(Text)
    postal_code: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text, server_default="FI")
    billing_street: Mapped[str | None] = mapped_column(Text)
    billing_postal_code: Mapped[str | None] = mapped_column(Text)
    billing_city: Mapped[str | None] = mapped_column(Text)
    billing_country: Mapped[str | None] = mapped_column(Text)
    billing_email: Mapped[str | None] = mapped_column(Text)
    einvoice_address: Mapped[str | None] = mapped_column(Text)
    einvoice_operator: Mapped[str | None] = mapped_column(Text)
    payment_term_days: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class ProductRow(Base):
    """Spotilla's product register (tuoterekisteri); prices are net of VAT."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    code: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    unit: Mapped[str] = mapped_column(Text, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    vat_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class TaskRow(Base):
    """A work order (tehtävä)."""

    __tablename__ = "tasks"
    __table_args__ = (Index(None, "organization_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    order_number: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class TaskProductRow(Base):
    """A product used on a task, with the quantity used."""

    __tablename__ = "task_products"
    __table_args__ = (Index(None, "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3), nullable=False)

"""Procountor JSON answers to domain dataclasses, tolerant of missing objects and loosely typed fields."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from spotilla_procountor.domain.procountor import Address, CompanyIdentity, InvoiceRef, Partner, ProcountorProduct

from . import codec


def address_from(raw: Any) -> Address | None:
    """An Address from Procountor's object (None when absent)."""
    if not isinstance(raw, dict):
        return None
    return Address(**{key: _text(raw.get(key)) for key in ("name", "street", "zip", "city", "country")})


def product_from(raw: dict) -> ProcountorProduct:
    """A product from a search row or a full product."""
    return ProcountorProduct(
        id=int(raw["id"]),
        name=str(raw.get("name") or ""),
        code=_text(raw.get("code")),
        unit=_text(raw.get("unit")),
        price=_decimal(raw.get("price")),
        vat_percent=_decimal(raw.get("vat")),
    )


def partner_from_row(raw: dict) -> Partner:
    """A search row (BusinessPartnerBasicInfo): `complete=False`."""
    info = _object(raw.get("invoicingInfo"))
    return Partner(
        id=int(raw["id"]),
        name=str(raw.get("name") or ""),
        type=str(raw.get("type") or ""),
        business_id=_text(info.get("identifier")),
        version=codec.parse_moment(raw.get("version")),
        billing_address=address_from(raw.get("billingAddress")),
        active=_active(raw),
        complete=False,
    )


def partner_from(raw: dict) -> Partner:
    """A full BusinessPartner, tolerant of missing objects and of paymentTermDays as string or number."""
    info, payment = _object(raw.get("invoicingInfo")), _object(raw.get("paymentInfo"))
    return replace(
        partner_from_row(raw),
        address=address_from(raw.get("address")),
        email=_text(info.get("email")),
        einvoice_address=_text(info.get("einvoiceAddress")),
        einvoice_operator=_text(info.get("einvoiceOperator")),
        payment_term_days=_int(payment.get("paymentTermDays")),
        complete=True,
    )


def company_from(raw: dict) -> CompanyIdentity:
    """The logged-in company from `GET /company` (an open schema: only `id` is required here)."""
    return CompanyIdentity(id=int(raw["id"]), name=_text(raw.get("name")), business_id=_text(raw.get("businessId")))


def invoice_ref_from(raw: dict) -> InvoiceRef:
    """An InvoiceRef from a full invoice or a search row (rows only when the answer has them)."""
    rows = raw.get("invoiceRows")
    return InvoiceRef(
        id=int(raw["id"]),
        status=str(raw.get("status") or ""),
        external_key=_text(raw.get("originalInvoiceNumber")),
        partner_id=_int(raw.get("partnerId")),
        invoice_number=_int(raw.get("invoiceNumber")),
        rows=tuple(r for r in rows if isinstance(r, dict)) if isinstance(rows, list) else (),
    )


def _object(raw: Any) -> dict:
    return raw if isinstance(raw, dict) else {}


def _text(raw: Any) -> str | None:
    return None if raw is None or raw == "" else str(raw)


def _int(raw: Any) -> int | None:
    try:
        return None if raw is None or raw == "" or isinstance(raw, bool) else int(raw)
    except (TypeError, ValueError):
        return None


def _decimal(raw: Any) -> Decimal | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return Decimal(str(raw))
    except ArithmeticError:
        return None


def _active(raw: dict) -> bool:
    active = _object(raw.get("registryInfo")).get("active")
    return active if isinstance(active, bool) else True


def results(answer: Any) -> list[dict]:
    """The rows of a search answer (`results`; older answers used a bare list)."""
    rows = answer.get("results") if isinstance(answer, dict) else answer
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def total_count(answer: Any) -> int | None:
    meta = answer.get("meta") if isinstance(answer, dict) else None
    total = meta.get("totalCount") if isinstance(meta, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def row_id(row: dict) -> int:
    try:
        return int(row["id"])
    except (KeyError, TypeError, ValueError):
        return -1


def sales_vat_percentages(answer: dict) -> frozenset[Decimal]:
    """Sales VAT percentages of the FINLAND entry of `vatInformation` (of every entry when there is none)."""
    entries = [e for e in answer.get("vatInformation") or [] if isinstance(e, dict)]
    finnish = [e for e in entries if str(e.get("country") or e.get("countryCode") or "").upper() in {"FINLAND", "FI"}]
    found: set[Decimal] = set()
    for entry in finnish or entries:
        for item in entry.get("percentages") or entry.get("vatPercentages") or []:
            if isinstance(item, dict):
                if item.get("sales") is not False and item.get("vatPercent") is not None:
                    found.add(Decimal(str(item["vatPercent"])))
            elif isinstance(item, int | Decimal) and not isinstance(item, bool):
                found.add(Decimal(item))
    return frozenset(found)

"""Domain dataclasses to Procountor JSON bodies, and the checks that run before anything is sent."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from spotilla_procountor.domain.errors import FieldNotSendable
from spotilla_procountor.domain.procountor import (
    Address,
    InvoiceDraft,
    NewPartner,
    NewProduct,
)

from . import codec

# Maximum lengths by JSON path ("[]" stands for any list index). Sources: the reference's field tables.
# Our own choices, stricter than or absent from the reference: e-mail 80 (as contactPersons.email),
# phone 40 (as contactPersons.phone), invoice row `product` 200 (the reference only says "at least 1").
_ADDRESS_LIMITS = {"name": 80, "specifier": 80, "street": 80, "zip": 20, "city": 40, "subdivision": 35}
MAX_LENGTHS: dict[str, int] = {
    **{f"{where}.{key}": n for where in ("address", "billingAddress") for key, n in _ADDRESS_LIMITS.items()},
    **{f"counterParty.counterPartyAddress.{key}": n for key, n in _ADDRESS_LIMITS.items()},
    "name": 80,
    "invoicingInfo.email": 80,
    "registryInfo.phone": 40,
    "counterParty.email": 80,
    "paymentInfo.bankAccount.accountNumber": 34,
    "orderReference": 70,
    "originalInvoiceNumber": 40,
    "invoiceRows[].product": 200,
    "invoiceRows[].comment": 512,
}
PRODUCT_MAX_LENGTHS: dict[str, int] = {"name": 100, "code": 40}
_INDEX = re.compile(r"\[\d+\]")


def check_sendable(body: dict, limits: dict[str, int]) -> None:
    """Raises FieldNotSendable listing every string Procountor could not store (length, Windows-1252)."""
    problems: list[tuple[str | None, str]] = []
    for path, value in _leaves(body, ""):
        problems += _problems(path, value, limits.get(_INDEX.sub("[]", path)))
    if problems:
        raise FieldNotSendable(problems)


def _leaves(value: Any, path: str):
    """(json path, value) for every scalar in a body."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def _problems(path: str, value: Any, limit: int | None) -> list[tuple[str | None, str]]:
    """What is wrong with one value, as sentences a person can act on."""
    if isinstance(value, Decimal) and not value.is_finite():
        return [(path, f"{path} is {value}, which is not a number")]
    if not isinstance(value, str):
        return []
    found = []
    bad = _first_outside_cp1252(value)
    if bad is not None:
        found.append((path, f"{path} contains {bad!r}, which Procountor cannot store (Windows-1252 only)"))
    if limit is not None and len(value) > limit:
        found.append((path, f"{path} is {len(value)} characters; Procountor allows at most {limit}"))
    return found


def _first_outside_cp1252(text: str) -> str | None:
    """The first character Windows-1252 cannot encode, or None."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        pass
    else:
        return None  # the usual case, found by one encode instead of one per character
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            return char
    return None


def without_none(value: Any) -> Any:
    """The body with None values (and objects left empty by that) removed."""
    if isinstance(value, dict):
        cleaned = {k: without_none(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in cleaned.items() if v != {}}
    if isinstance(value, list):
        return [without_none(item) for item in value]
    return value


def invoice_channel(
    einvoice_address: str | None, einvoice_operator: str | None, email: str | None, address: Address | None
) -> str:
    """E-invoice when both its parts are known, else e-mail, else paper mail to a full address, else none."""
    if einvoice_address and einvoice_operator:
        return "ELECTRONIC_INVOICE"
    if email:
        return "EMAIL"
    if address is not None and address.street and address.zip and address.city:
        return "MAIL"
    return "NO_SENDING"


def address_json(address: Address | None) -> dict | None:
    """Procountor's address object."""
    if address is None:
        return None
    return {
        "name": address.name,
        "street": address.street,
        "zip": address.zip,
        "city": address.city,
        "country": address.country,
    }


# ---------------------------------------------------------------- products


def product_body(product: NewProduct) -> dict:
    """POST /products body for a sales product."""
    return {
        "type": "SALES",
        "name": product.name,
        "code": product.code,
        "unit": product.unit,
        "price": product.price,
        "discount": 0,
        "vat": product.vat_percent,
        "currency": product.currency,
        "active": True,
    }


# ---------------------------------------------------------------- partners


def partner_body(partner: NewPartner, *, identifier_type: str) -> dict:
    """POST /businesspartners body for a CUSTOMER; None values are left out."""
    channel = invoice_channel(
        partner.einvoice_address, partner.einvoice_operator, partner.email, partner.billing_address or partner.address
    )
    terms = None if partner.payment_term_days is None else str(partner.payment_term_days)
    return without_none(
        {
            "name": partner.name,
            "type": "CUSTOMER",
            "address": address_json(partner.address),
            "billingAddress": address_json(partner.billing_address),
            "invoicingInfo": {
                "identifier": partner.business_id,
                "identifierType": identifier_type,
                "customerNumber": partner.customer_number,
                "email": partner.email,
                "einvoiceAddress": partner.einvoice_address,
                "einvoiceOperator": partner.einvoice_operator,
                "invoiceChannel": channel,
                "language": "FINNISH",
            },
            # paymentTermDays is typed as a string in Procountor's schema.
            "paymentInfo": {"paymentMethod": "BANK_TRANSFER", "paymentTermDays": terms, "currency": "EUR"},
            "registryInfo": {"phone": partner.phone},
        }
    )


# ---------------------------------------------------------------- invoices


def invoice_body(draft: InvoiceDraft, *, bank_account: str | None, vat_status: int) -> dict:
    """POST /invoices body for a SALES_INVOICE.

    `status` is not sent: it is optional since API 24.11 and an API-created invoice is UNFINISHED anyway.
    `billingAddress` is left out unless the draft has one (Procountor then copies the counterparty address).
    """
    channel = invoice_channel(
        draft.einvoice_address,
        draft.einvoice_operator,
        draft.email,
        draft.billing_address or draft.counterparty_address,
    )
    einvoice = {"address": draft.einvoice_address, "operator": draft.einvoice_operator}
    return without_none(
        {
            "type": "SALES_INVOICE",
            "partnerId": draft.partner_id,
            "date": codec.day(draft.invoice_date),
            "counterParty": {
                "counterPartyAddress": address_json(draft.counterparty_address),
                "identifier": draft.counterparty_business_id,
                "email": draft.email,
                "einvoiceAddress": einvoice if draft.einvoice_address else None,
            },
            "billingAddress": address_json(draft.billing_address),
            "paymentInfo": {
                "paymentMethod": "BANK_TRANSFER",
                "currency": draft.currency,
                "dueDate": codec.day(draft.due_date),
                "currencyRate": 1,
                "bankAccount": {"accountNumber": bank_account} if bank_account else None,
                "bankReferenceCode": "",  # empty: Procountor generates the reference number
            },
            "extraInfo": {"accountingByRow": False, "unitPricesIncludeVat": False},
            "discountPercent": 0,
            "invoiceChannel": channel,
            "language": "FINNISH",
            "vatStatus": vat_status,
            "originalInvoiceNumber": draft.external_key,
            "orderReference": draft.order_reference,
            "deliveryStartDate": codec.day(draft.delivery_date),
            "deliveryEndDate": codec.day(draft.delivery_date),
            "invoiceRows": [
                {
                    "productId": row.product_id,
                    "product": row.product,
                    "productCode": row.product_code,
                    "quantity": row.quantity,
                    "unit": row.unit,
                    "unitPrice": row.unit_price,
                    "discountPercent": 0,
                    "vatPercent": row.vat_percent,
                }
                for row in draft.rows
            ],
        }
    )

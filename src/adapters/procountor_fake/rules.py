"""Per-resource validation rules (partners, products, sales invoices) from the API reference."""

# Choices where the reference says UNCONFIRMED (the strictest reading is taken, so a client that
# passes the fake should pass the real API):
# - A partner identifier is checked as a Y-tunnus when identifierType is "FI", "Y_TUNNUS" or absent.
# - Sales invoices require `language` and `vatStatus` (documented as required for sales invoices).
# - BANK_TRANSFER invoices require paymentInfo.bankAccount.accountNumber (IBAN without spaces).
# - A row `productId`, when given, must exist in the product register, like `partnerId`.
# - Only SALES_INVOICE can be created.

from collections.abc import Collection
from decimal import Decimal

from .constants import (
    COUNTRIES,
    CURRENCIES,
    FINNISH_IDENTIFIER_TYPES,
    INVOICE_CHANNELS,
    INVOICE_PAYMENT_METHODS,
    LANGUAGES,
    PARTNER_INVOICE_CHANNELS,
    PARTNER_PAYMENT_METHODS,
    PARTNER_TYPES,
    PRODUCT_TYPES,
    UNITS,
    VAT_STATUSES,
)
from .validation import Checker, valid_y_tunnus

_HUNDRED = Decimal(100)
_VAT_STATUS_IDS = frozenset(s["vatStatus"] for s in VAT_STATUSES)


def check_address(c: Checker, parent: dict, path: str, key: str, *, required: bool = False) -> dict | None:
    """Address lengths and country, shared by partners and invoices."""
    address = c.obj(parent, path, key, required=required)
    if address is None:
        return None
    c.string(address, f"{path}.name", "name", max_len=80, required=True)
    c.string(address, f"{path}.specifier", "specifier", max_len=80)
    c.string(address, f"{path}.street", "street", max_len=80)
    c.string(address, f"{path}.zip", "zip", max_len=20)
    c.string(address, f"{path}.city", "city", max_len=40)
    c.string(address, f"{path}.subdivision", "subdivision", max_len=35)
    c.enum(address, f"{path}.country", "country", COUNTRIES)
    return address


def check_partner(body: dict, allowed_types: Collection[str] = PARTNER_TYPES) -> list[dict]:
    """All violations of a business partner body."""
    c = Checker()
    c.string(body, "name", "name", max_len=80, min_len=1, required=True)
    partner_type = c.enum(body, "type", "type", frozenset(allowed_types), required=True)
    check_address(c, body, "address", "address", required=partner_type == "CUSTOMER")
    check_address(c, body, "billingAddress", "billingAddress")
    check_address(c, body, "deliveryAddress", "deliveryAddress")
    payment = c.obj(body, "paymentInfo", "paymentInfo", required=True)
    if payment is not None:
        c.enum(payment, "paymentInfo.paymentMethod", "paymentMethod", PARTNER_PAYMENT_METHODS, required=True)
        c.enum(payment, "paymentInfo.currency", "currency", CURRENCIES)
    _check_invoicing_info(c, body)
    _check_contact_persons(c, body.get("contactPersons"))
    registry = c.obj(body, "registryInfo", "registryInfo")
    if registry is not None:
        c.boolean(registry, "registryInfo.active", "active")
    c.windows_1252(body)
    return c.errors


def _check_invoicing_info(c: Checker, body: dict) -> None:
    """Channel and language enums, and the Y-tunnus check digit."""
    info = c.obj(body, "invoicingInfo", "invoicingInfo")
    if info is None:
        return
    c.enum(info, "invoicingInfo.invoiceChannel", "invoiceChannel", PARTNER_INVOICE_CHANNELS)
    c.enum(info, "invoicingInfo.language", "language", LANGUAGES)
    if len(info.get("bccAddresses") or []) > 4:
        c.fail("invoicingInfo.bccAddresses", "At most 4 bcc addresses are allowed")
    identifier = info.get("identifier")
    identifier_type = info.get("identifierType")
    finnish = not isinstance(identifier_type, str) or identifier_type in FINNISH_IDENTIFIER_TYPES
    if identifier and finnish and not (isinstance(identifier, str) and valid_y_tunnus(identifier)):
        c.fail("invoicingInfo.identifier", "ERROR_BRN_CODE")


def _check_contact_persons(c: Checker, persons: object) -> None:
    """Contact person field lengths."""
    if persons is None:
        return
    if not isinstance(persons, list):
        c.fail("contactPersons", "Value of the 'contactPersons' must be a list")
        return
    for i, person in enumerate(persons):
        c.string(person, f"contactPersons[{i}].name", "name", max_len=80)
        c.string(person, f"contactPersons[{i}].email", "email", max_len=80)
        c.string(person, f"contactPersons[{i}].phone", "phone", max_len=40)


def check_product(body: dict, vat_percentages: Collection[Decimal]) -> list[dict]:
    """All violations of a product body."""
    c = Checker()
    c.enum(body, "type", "type", PRODUCT_TYPES, required=True)
    c.string(body, "name", "name", max_len=100, min_len=1, required=True)
    c.string(body, "code", "code", max_len=40)
    c.enum(body, "unit", "unit", UNITS)
    c.number(body, "price", "price", required=True)
    c.number(body, "discount", "discount", required=True, low=Decimal(0), high=_HUNDRED)
    vat = c.number(body, "vat", "vat")
    if vat is not None and vat not in vat_percentages:
        c.fail("vat", f"VAT percentage {vat} is not in use for the company")
    c.enum(body, "vatStatus", "vatStatus", _VAT_STATUS_IDS)
    c.enum(body, "currency", "currency", CURRENCIES, required=True)
    c.boolean(body, "active", "active", required=True)
    c.windows_1252(body)
    return c.errors


def check_invoice(body: dict, vat_percentages: Collection[Decimal]) -> list[dict]:
    """All violations of a SALES_INVOICE body (existence of referenced ids is checked by the caller)."""
    c = Checker()
    c.enum(body, "type", "type", frozenset({"SALES_INVOICE"}), required=True)
    bill_date = c.day(body, "date", "date", required=True)
    channel = c.enum(body, "invoiceChannel", "invoiceChannel", INVOICE_CHANNELS, required=True)
    c.enum(body, "language", "language", LANGUAGES, required=True)
    c.enum(body, "vatStatus", "vatStatus", _VAT_STATUS_IDS, required=True)
    c.string(body, "orderReference", "orderReference", max_len=70)
    c.string(body, "originalInvoiceNumber", "originalInvoiceNumber", max_len=40)
    c.string(body, "additionalInformation", "additionalInformation", max_len=10000)
    c.string(body, "notes", "notes", max_len=10000)
    c.number(body, "discountPercent", "discountPercent", required=True, low=Decimal(0), high=_HUNDRED)
    if "partnerId" in body and body["partnerId"] is not None and type(body["partnerId"]) is not int:
        c.fail("partnerId", "Value of the 'partnerId' must be an integer")
    _check_counter_party(c, body, channel)
    _check_payment_info(c, body, bill_date)
    extra = c.obj(body, "extraInfo", "extraInfo", required=True)
    if extra is not None:
        c.boolean(extra, "extraInfo.accountingByRow", "accountingByRow", required=True)
        c.boolean(extra, "extraInfo.unitPricesIncludeVat", "unitPricesIncludeVat", required=True)
    _check_rows(c, body.get("invoiceRows"), vat_percentages)
    c.windows_1252(body)
    return c.errors


def _check_counter_party(c: Checker, body: dict, channel: str | None) -> None:
    """Buyer name, and the postal fields a MAIL or ELECTRONIC_INVOICE channel needs."""
    party = c.obj(body, "counterParty", "counterParty", required=True)
    address = check_address(
        c, party or {}, "counterParty.counterPartyAddress", "counterPartyAddress", required=party is not None
    )
    billing = check_address(c, body, "billingAddress", "billingAddress") or {}
    check_address(c, body, "deliveryAddress", "deliveryAddress")
    if party is not None:
        c.string(party, "counterParty.contactPersonName", "contactPersonName", max_len=70)
    if address is None or channel not in {"MAIL", "ELECTRONIC_INVOICE"}:
        return
    for key in ("street", "zip", "city"):
        missing_here, missing_billing = not address.get(key), not billing.get(key)
        if missing_here and (channel == "ELECTRONIC_INVOICE" or missing_billing):
            c.fail(f"counterParty.counterPartyAddress.{key}", f"Value of the '{key}' cannot be blank")
    if channel == "ELECTRONIC_INVOICE":
        einvoice = c.obj(party, "counterParty.einvoiceAddress", "einvoiceAddress", required=True) or {}
        c.string(einvoice, "counterParty.einvoiceAddress.address", "address", max_len=200, required=True)
        c.string(einvoice, "counterParty.einvoiceAddress.operator", "operator", max_len=200, required=True)


def _check_payment_info(c: Checker, body: dict, bill_date: object) -> None:
    """Payment method, currency, rate and the due date rules."""
    payment = c.obj(body, "paymentInfo", "paymentInfo", required=True)
    if payment is None:
        return
    method = c.enum(payment, "paymentInfo.paymentMethod", "paymentMethod", INVOICE_PAYMENT_METHODS, required=True)
    c.enum(payment, "paymentInfo.currency", "currency", CURRENCIES, required=True)
    c.number(payment, "paymentInfo.currencyRate", "currencyRate", required=True, low=Decimal(0), high=Decimal(1000000))
    c.string(payment, "paymentInfo.clearingCode", "clearingCode", max_len=50)
    due = c.day(payment, "paymentInfo.dueDate", "dueDate", required=True)
    if due is not None and bill_date is not None:
        if due < bill_date:
            c.fail("paymentInfo.dueDate", "DUE_DATE_BEFORE_BILL_DATE")
        elif (due - bill_date).days > 999:
            c.fail("paymentInfo.dueDate", "Payment term must be between 0 and 999 days")
    if method == "BANK_TRANSFER":
        account = c.obj(payment, "paymentInfo.bankAccount", "bankAccount", required=True) or {}
        number = c.string(account, "paymentInfo.bankAccount.accountNumber", "accountNumber", max_len=34, required=True)
        if isinstance(number, str) and " " in number:
            c.fail("paymentInfo.bankAccount.accountNumber", "Account number must not contain spaces")


def _check_rows(c: Checker, rows: object, vat_percentages: Collection[Decimal]) -> None:
    """At least one row; each with name, quantity, unit, price, discount and a VAT % in use."""
    if not isinstance(rows, list) or not rows:
        c.fail("invoiceRows", "Invoice must have at least one row")
        return
    for i, row in enumerate(rows):
        path = f"invoiceRows[{i}]"
        if not isinstance(row, dict):
            c.fail(path, f"Value of the '{path}' must be an object")
            continue
        c.string(row, f"{path}.product", "product", max_len=200, min_len=1, required=True)
        c.number(row, f"{path}.quantity", "quantity", required=True)
        c.enum(row, f"{path}.unit", "unit", UNITS, required=True)
        c.number(row, f"{path}.unitPrice", "unitPrice", required=True)
        c.number(row, f"{path}.discountPercent", "discountPercent", required=True, low=Decimal(0), high=_HUNDRED)
        vat = c.number(row, f"{path}.vatPercent", "vatPercent", required=True)
        if vat is not None and vat not in vat_percentages:
            c.fail(f"{path}.vatPercent", f"VAT percentage {vat} is not in use for the company")
        for key in ("comment", "headerText", "explanationText"):
            c.string(row, f"{path}.{key}", key, max_len=512)
        c.day(row, f"{path}.startDate", "startDate")
        c.day(row, f"{path}.endDate", "endDate")

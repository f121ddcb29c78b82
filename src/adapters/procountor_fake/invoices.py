"""Sales invoice endpoints: create (always UNFINISHED), search, batch get, update, status changes."""

# UNCONFIRMED choices: `originalInvoiceNumber` search is a case-insensitive SUBSTRING match (a client
# must filter exactly itself); `PUT /invoices/{id}` answers 400 (not 403) outside UNFINISHED, like a
# stale or missing `version`; status changes bump the version and answer an InfoMessage.

import copy
from collections.abc import Collection
from decimal import Decimal

from .constants import INVOICE_STATUSES, INVOICE_TYPES
from .messages import ApiError, FakeRequest, FakeResponse, json_object, json_response
from .money import finnish_reference, invoice_sum_info
from .rules import check_invoice
from .search import (
    bad_param,
    batch_get,
    descending,
    int_param,
    list_param,
    ordered,
    page_param,
    page_result,
    size_param,
    version_window,
)
from .state import Store, format_version
from .validation import error, parse_date

TABLE = "invoices"
_SERVER_OWNED = ("id", "version", "status", "invoiceNumber", "invoiceSumInfo", "created")
_BASIC_KEYS = (
    "id",
    "partnerId",
    "type",
    "status",
    "invoiceNumber",
    "originalInvoiceNumber",
    "invoiceChannel",
    "date",
    "created",
    "version",
    "invoiceSumInfo",
    "counterParty",
)
# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "approve": (frozenset({"UNFINISHED"}), "NOT_SENT"),
    "send": (frozenset({"NOT_SENT", "SENT"}), "SENT"),
    "invalidate": (frozenset({"UNFINISHED", "NOT_SENT", "SENT"}), "INVALIDATED"),
    "unfinished": (frozenset({"NOT_SENT", "SENT"}), "UNFINISHED"),
}


def basic_info(invoice: dict) -> dict:
    """A search row (InvoiceBasicInfo)."""
    row = {key: copy.deepcopy(invoice.get(key)) for key in _BASIC_KEYS}
    row["dueDate"] = invoice["paymentInfo"]["dueDate"]
    return row


def _reference_errors(store: Store, body: dict) -> list[dict]:
    """Referenced partner and products must exist."""
    errors = []
    partner_id = body.get("partnerId")
    if type(partner_id) is int and partner_id not in store.tables["partners"]:
        errors.append(error("partnerId", f"Business partner {partner_id} does not exist"))
    for i, row in enumerate(body.get("invoiceRows") or []):
        product_id = row.get("productId") if isinstance(row, dict) else None
        if product_id is not None and product_id not in store.tables["products"]:
            errors.append(error(f"invoiceRows[{i}].productId", f"Product {product_id} does not exist"))
    return errors


def _validated(store: Store, body: dict, vat_percentages: Collection[Decimal]) -> dict:
    """A copy of the body without server-owned fields, or a 400 listing every violation."""
    errors = check_invoice(body, vat_percentages) + _reference_errors(store, body)
    if errors:
        raise ApiError(400, errors)
    obj = copy.deepcopy(body)
    for key in _SERVER_OWNED:
        obj.pop(key, None)
    obj.setdefault("partnerId", None)
    # An omitted billing address is taken from the counterparty address.
    if "billingAddress" not in obj:
        obj["billingAddress"] = copy.deepcopy(obj["counterParty"]["counterPartyAddress"])
    obj["invoiceSumInfo"] = invoice_sum_info(obj)
    return obj


def create(store: Store, request: FakeRequest, vat_percentages: Collection[Decimal]) -> FakeResponse:
    """POST /invoices: stored as UNFINISHED with a Procountor invoice number."""
    obj = _validated(store, json_object(request), vat_percentages)
    obj["status"] = "UNFINISHED"
    obj["invoiceNumber"] = store.next_invoice_number()
    obj["created"] = format_version(store.now())
    # An empty reference code asks Procountor to generate one.
    if obj["paymentInfo"].get("bankReferenceCode") == "":
        obj["paymentInfo"]["bankReferenceCode"] = finnish_reference(1000 + obj["invoiceNumber"])
    return json_response(200, store.insert(TABLE, obj))


def update(store: Store, request: FakeRequest, invoice_id: int, vat_percentages: Collection[Decimal]) -> FakeResponse:
    """PUT /invoices/{id}: only while UNFINISHED and with the latest version."""
    current = store.get(TABLE, invoice_id)
    body = json_object(request)
    if current["status"] != "UNFINISHED":
        raise ApiError(400, [error("status", f"Invoice in status {current['status']} cannot be updated")])
    if body.get("version") != current["version"]:
        raise ApiError(400, [error("version", "VERSION_CONFLICT")])
    if body.get("partnerId", current["partnerId"]) != current["partnerId"]:
        raise ApiError(400, [error("partnerId", "Value of the 'partnerId' cannot be changed")])
    obj = _validated(store, body, vat_percentages)
    for key in ("id", "status", "invoiceNumber", "created"):
        obj[key] = current[key]
    return json_response(200, store.replace(TABLE, obj))


def transition(store: Store, invoice_id: int, action: str) -> FakeResponse:
    """PUT /invoices/{id}/{action}; 403 when the invoice is in the wrong status."""
    current = store.get(TABLE, invoice_id)
    sources, target = TRANSITIONS[action]
    if current["status"] not in sources:
        raise ApiError(403, [error("status", f"Invalid invoice status {current['status']} for {action}", 403)])
    store.replace(TABLE, {**current, "status": target})
    return json_response(200, {"message": f"Invoice {invoice_id} is now {target}"})


def get_many(store: Store, ids: str) -> FakeResponse:
    """GET /invoices/{ids}."""
    return batch_get(store, TABLE, ids)


def _enum_list(request: FakeRequest, name: str, allowed: frozenset[str]) -> set[str]:
    """A comma-separated list of enum values."""
    values = set(list_param(request, name))
    if values - allowed:
        raise bad_param(name, f"Unknown value(s) for '{name}': {sorted(values - allowed)}")
    return values


def _date_param(request: FakeRequest, name: str):
    """A `YYYY-MM-DD` query parameter."""
    raw = request.param(name)
    if not raw:
        return None
    parsed = parse_date(raw)
    if parsed is None:
        raise bad_param(name, f"Value of the '{name}' must be a date YYYY-MM-DD")
    return parsed


def _filters(request: FakeRequest):
    """One predicate combining every search filter."""
    statuses = _enum_list(request, "status", INVOICE_STATUSES)
    types = _enum_list(request, "types", INVOICE_TYPES)
    partner_id = int_param(request, "businessPartnerId")
    number = int_param(request, "invoiceNumber")
    original = (request.param("originalInvoiceNumber") or "").casefold()
    start, end = _date_param(request, "startDate"), _date_param(request, "endDate")
    in_window = version_window(request)

    def keep(inv: dict) -> bool:
        billed = parse_date(inv["date"])
        return (
            (not statuses or inv["status"] in statuses)
            and (not types or inv["type"] in types)
            and (partner_id is None or inv["partnerId"] == partner_id)
            and (number is None or inv["invoiceNumber"] == number)
            and original in (inv.get("originalInvoiceNumber") or "").casefold()
            and (start is None or billed >= start)
            and (end is None or billed <= end)
            and in_window(inv)
        )

    return keep


def search(store: Store, request: FakeRequest) -> FakeResponse:
    """GET /invoices."""
    size, page = size_param(request), page_param(request)
    desc = descending(request, "orderById", "DESC")
    keep = _filters(request)
    rows = [inv for inv in ordered(store.tables[TABLE].values(), desc) if keep(inv)]
    return page_result(rows, page, size, render=basic_info)

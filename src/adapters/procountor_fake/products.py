"""Product endpoints: search with keyset paging, batch get, create, update, delete; default VATs."""

# Choices where the reference is silent or UNCONFIRMED:
# - `GET /products` orders by id ASCENDING by default (keyset paging reads naturally forward); a client
#   pages by passing the last id it saw as `previousId` (DESC returns ids below `previousId`).
# - `page` is ignored for products (not documented); `meta.pageNumber` is always 0 and
#   `meta.totalCount` counts every match of the filters, ignoring `previousId`.
# - Without `type`, SALES and PURCHASE products are returned; without `active`, both states are.

import copy
from collections.abc import Collection
from decimal import Decimal

from .constants import PRODUCT_TYPES, VAT_STATUSES
from .messages import ApiError, FakeRequest, FakeResponse, json_object, json_response
from .rules import check_product
from .search import (
    bad_param,
    batch_get,
    bool_param,
    descending,
    int_param,
    ordered,
    page_result,
    size_param,
    version_window,
)
from .state import Store

TABLE = "products"


def _matches(product: dict, request: FakeRequest, active: bool | None) -> bool:
    """Type, code/name substrings and the active flag."""
    wanted_type = request.param("type")
    if wanted_type and product["type"] != wanted_type:
        return False
    if not wanted_type and product["type"] == "TRAVEL":
        return False
    for key in ("code", "name"):
        needle = request.param(key)
        if needle and needle.casefold() not in (product.get(key) or "").casefold():
            return False
    return active is None or product["active"] == active


def search(store: Store, request: FakeRequest) -> FakeResponse:
    """GET /products."""
    size = size_param(request)
    desc = descending(request, "orderById", "ASC")
    if request.param("type") and request.param("type") not in PRODUCT_TYPES:
        raise bad_param("type", "Value of the 'type' must be SALES, PURCHASE or TRAVEL")
    active = bool_param(request, "active", None)
    in_window = version_window(request)
    previous = int_param(request, "previousId", 0) or 0
    matching = [p for p in ordered(store.tables[TABLE].values(), desc) if _matches(p, request, active) and in_window(p)]
    past = [p for p in matching if not previous or (p["id"] < previous if desc else p["id"] > previous)]
    return page_result(past, 0, size, total=len(matching), render=copy.deepcopy)


def get_many(store: Store, ids: str) -> FakeResponse:
    """GET /products/{ids}."""
    return batch_get(store, TABLE, ids)


def _validated(body: dict, vat_percentages: Collection[Decimal]) -> dict:
    """The body without server-owned fields, or a 400 with every violation."""
    errors = check_product(body, vat_percentages)
    if errors:
        raise ApiError(400, errors)
    obj = copy.deepcopy(body)
    obj.pop("id", None)
    obj.pop("version", None)
    return obj


def create(store: Store, request: FakeRequest, vat_percentages: Collection[Decimal]) -> FakeResponse:
    """POST /products."""
    obj = _validated(json_object(request), vat_percentages)
    return json_response(200, store.insert(TABLE, obj))


def update(store: Store, request: FakeRequest, product_id: int, vat_percentages: Collection[Decimal]) -> FakeResponse:
    """PUT /products/{id}: replaces the product."""
    store.get(TABLE, product_id)
    obj = _validated(json_object(request), vat_percentages)
    obj["id"] = product_id
    return json_response(200, store.replace(TABLE, obj))


def delete(store: Store, product_id: int) -> FakeResponse:
    """DELETE /products/{id}: 204; TRAVEL products cannot be removed."""
    if store.get(TABLE, product_id)["type"] == "TRAVEL":
        raise ApiError(400, message="TRAVEL products cannot be removed")
    del store.tables[TABLE][product_id]
    return FakeResponse(204)


def default_vats(vat_percentages: Collection[Decimal]) -> FakeResponse:
    """GET /vats/default, shaped like the spec's VatInformation (VatCountryInfo + VatStatusInfo)."""
    percentages = [{"vatPercent": v, "sales": True, "purchase": True} for v in vat_percentages]
    payload = {
        "vatInformation": [{"country": "FINLAND", "percentages": percentages}],
        "vatStatuses": [dict(s) for s in VAT_STATUSES],
    }
    return json_response(200, payload)

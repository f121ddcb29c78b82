"""Business partner endpoints: search, batch get, create, replace, patch, accountant edit."""

# UNCONFIRMED choices: the `identifier` header matches exactly and `name` as a case-insensitive
# substring; PUT checks `version` only when the body carries one; PATCH rejects fields outside the
# documented patchable set; stale or missing versions answer 400 with message VERSION_CONFLICT.

import copy

from .constants import PARTNER_CREATE_TYPES, PARTNER_TYPES
from .messages import ApiError, FakeRequest, FakeResponse, json_object, json_response
from .rules import check_partner
from .search import (
    bad_param,
    batch_get,
    bool_param,
    descending,
    int_param,
    ordered,
    page_param,
    page_result,
    size_param,
    version_window,
)
from .state import Store
from .validation import error

TABLE = "partners"
_PATCHABLE = frozenset({"id", "name", "type", "address", "invoicingInfo", "paymentInfo", "version"})


def basic_info(partner: dict) -> dict:
    """A search row (BusinessPartnerBasicInfo)."""
    info = partner.get("invoicingInfo") or {}
    return {
        "id": partner["id"],
        "name": partner["name"],
        "billingAddress": copy.deepcopy(partner.get("billingAddress")),
        "invoicingInfo": {k: info.get(k) for k in ("customerNumber", "identifier", "identifierType")},
        "registryInfo": {"active": partner["registryInfo"]["active"]},
        "type": partner["type"],
        "version": partner["version"],
    }


def _matches(partner: dict, request: FakeRequest, active: bool | None) -> bool:
    """Every given filter matches."""
    info = partner.get("invoicingInfo") or {}
    name = request.headers.get("name")
    checks = (
        (request.param("type"), partner["type"]),
        (request.headers.get("identifier"), info.get("identifier")),
        (request.param("identifierType"), info.get("identifierType")),
        (request.param("customerNumber"), info.get("customerNumber")),
    )
    if any(wanted and wanted != actual for wanted, actual in checks):
        return False
    if name and name.casefold() not in partner["name"].casefold():
        return False
    return active is None or partner["registryInfo"]["active"] == active


def search(store: Store, request: FakeRequest) -> FakeResponse:
    """GET /businesspartners; `identifier` and `name` come as request headers."""
    size, page = size_param(request), page_param(request)
    desc = descending(request, "orderById", "DESC")
    if request.param("type") and request.param("type") not in PARTNER_TYPES:
        raise bad_param("type", "Value of the 'type' must be CUSTOMER, SUPPLIER or PERSON")
    active = bool_param(request, "active", True)
    in_window = version_window(request)
    previous = int_param(request, "previousId")
    rows = [
        p
        for p in ordered(store.tables[TABLE].values(), desc)
        if _matches(p, request, active) and in_window(p) and _after(p["id"], previous, desc)
    ]
    return page_result(rows, page, size, render=basic_info)


def _after(object_id: int, previous: int | None, desc: bool) -> bool:
    """Legacy keyset paging: rows past the last id seen in the current order."""
    if not previous:
        return True
    return object_id < previous if desc else object_id > previous


def get_many(store: Store, ids: str) -> FakeResponse:
    """GET /businesspartners/{ids}."""
    return batch_get(store, TABLE, ids)


def _normalised(body: dict, partner_id: int | None = None) -> dict:
    """The stored shape: server-owned fields dropped, registry active defaulting to true."""
    obj = copy.deepcopy(body)
    obj.pop("version", None)
    obj["registryInfo"] = {"active": True, **(obj.get("registryInfo") or {})}
    if partner_id is not None:
        obj["id"] = partner_id
    else:
        obj.pop("id", None)
    return obj


def _require_valid(body: dict, types: frozenset[str]) -> None:
    """400 with every violation."""
    errors = check_partner(body, types)
    if errors:
        raise ApiError(400, errors)


def create(store: Store, request: FakeRequest) -> FakeResponse:
    """POST /businesspartners (CUSTOMER or SUPPLIER only)."""
    body = json_object(request)
    _require_valid(body, PARTNER_CREATE_TYPES)
    return json_response(200, store.insert(TABLE, _normalised(body)))


def _check_version(current: dict, given: object) -> None:
    """Optimistic lock: the client must send the latest version."""
    if given != current["version"]:
        raise ApiError(400, [error("version", "VERSION_CONFLICT")])


def replace(store: Store, request: FakeRequest, partner_id: int) -> FakeResponse:
    """PUT /businesspartners/{id}: replaces all details."""
    current = store.get(TABLE, partner_id)
    body = json_object(request)
    _require_valid(body, PARTNER_CREATE_TYPES)
    if body.get("version") is not None:
        _check_version(current, body["version"])
    return json_response(200, store.replace(TABLE, _normalised(body, partner_id)))


def merged(current: dict, changes: dict) -> dict:
    """Objects merge key by key (one level deep), everything else is replaced."""
    result = copy.deepcopy(current)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **copy.deepcopy(value)}
        else:
            result[key] = copy.deepcopy(value)
    return result


def patch(store: Store, request: FakeRequest, partner_id: int) -> FakeResponse:
    """PATCH /businesspartners/{id}: partial update; `version` (query or body) is required."""
    current = store.get(TABLE, partner_id)
    body = json_object(request)
    unknown = sorted(set(body) - _PATCHABLE)
    if unknown:
        raise ApiError(400, [error(key, f"Field '{key}' cannot be patched") for key in unknown])
    _check_version(current, request.param("version") or body.get("version"))
    changes = {k: v for k, v in body.items() if k not in {"id", "version"}}
    candidate = merged(current, changes)
    _require_valid(candidate, PARTNER_CREATE_TYPES)
    return json_response(200, store.replace(TABLE, candidate))


def accountant_edit(store: Store, partner_id: int, changes: dict) -> dict:
    """An edit made in the Procountor UI: no version check, any field, still validated."""
    candidate = merged(store.get(TABLE, partner_id), changes)
    candidate["id"] = partner_id
    _require_valid(candidate, PARTNER_TYPES)
    return store.replace(TABLE, candidate)

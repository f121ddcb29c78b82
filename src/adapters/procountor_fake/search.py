"""Query parameters shared by the search endpoints: paging, ordering, version window, batch ids."""

import copy
from collections.abc import Callable, Iterable
from datetime import datetime

from .constants import DEFAULT_PAGE_SIZE, MAX_BATCH_IDS, MAX_PAGE_SIZE
from .messages import ApiError, FakeRequest, FakeResponse, json_response
from .state import Store, parse_datetime
from .validation import error


def bad_param(name: str, message: str) -> ApiError:
    """A 400 naming the query parameter."""
    return ApiError(400, [error(name, message)])


def int_param(request: FakeRequest, name: str, default: int | None = None) -> int | None:
    """An integer query parameter."""
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise bad_param(name, f"Value of the '{name}' must be an integer") from None


def bool_param(request: FakeRequest, name: str, default: bool | None) -> bool | None:
    """A boolean query parameter (`true`/`false`)."""
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in {"true", "false"}:
        raise bad_param(name, f"Value of the '{name}' must be true or false")
    return raw.lower() == "true"


def list_param(request: FakeRequest, name: str) -> list[str]:
    """A comma-separated (or repeated) list parameter."""
    return [item for raw in request.query.get(name, []) for item in raw.split(",") if item]


def size_param(request: FakeRequest) -> int:
    """Page size: default 50, 1..200."""
    size = int_param(request, "size", DEFAULT_PAGE_SIZE)
    if size is None or not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_param("size", f"Value of the 'size' must be between 1 and {MAX_PAGE_SIZE}")
    return size


def page_param(request: FakeRequest) -> int:
    """0-based page number."""
    page = int_param(request, "page", 0)
    if page is None or page < 0:
        raise bad_param("page", "Value of the 'page' must not be negative")
    return page


def descending(request: FakeRequest, name: str, default: str) -> bool:
    """An ASC/DESC ordering parameter."""
    value = (request.param(name) or default).upper()
    if value not in {"ASC", "DESC"}:
        raise bad_param(name, f"Value of the '{name}' must be ASC or DESC")
    return value == "DESC"


def datetime_param(request: FakeRequest, name: str) -> datetime | None:
    """A `YYYY-MM-DDTHH:MM:SS` query parameter."""
    raw = request.param(name)
    if not raw:
        return None
    try:
        return parse_datetime(raw)
    except ValueError:
        raise bad_param(name, f"Value of the '{name}' must be a datetime YYYY-MM-DDTHH:MM:SS") from None


def version_window(request: FakeRequest) -> Callable[[dict], bool]:
    """Filter on versionStartDate <= version <= versionEndDate (both inclusive)."""
    start = datetime_param(request, "versionStartDate")
    end = datetime_param(request, "versionEndDate")

    def keep(obj: dict) -> bool:
        version = parse_datetime(obj["version"])
        return (start is None or version >= start) and (end is None or version <= end)

    return keep


def page_result(
    rows: list[dict], page: int, size: int, total: int | None = None, render: Callable[[dict], dict] | None = None
) -> FakeResponse:
    """`{"results": [...], "meta": {...}}` for one page of already-filtered, ordered rows.

    `render` shapes only the rows of the page, so listing n rows page by page stays linear, not quadratic.
    """
    chunk = rows[page * size : (page + 1) * size]
    if render is not None:
        chunk = [render(row) for row in chunk]
    meta = {
        "pageNumber": page,
        "pageSize": size,
        "resultCount": len(chunk),
        "totalCount": len(rows) if total is None else total,
    }
    return json_response(200, {"results": chunk, "meta": meta})


def parse_ids(segment: str) -> list[int]:
    """Distinct ids of a batch path segment, at most 200."""
    ids = sorted({int(part) for part in segment.split(",")})
    if len(segment.split(",")) > MAX_BATCH_IDS:
        raise bad_param("id", f"At most {MAX_BATCH_IDS} ids can be requested at once")
    return ids


def batch_get(store: Store, table: str, segment: str, render: Callable[[dict], dict] = copy.deepcopy):
    """Single id → object; several ids → list ordered by id, unknown skipped; none found → 404."""
    ids = parse_ids(segment)
    found = [render(store.tables[table][i]) for i in ids if i in store.tables[table]]
    if not found:
        raise ApiError(404, message=f"No {table} found for ids {segment}")
    if len(segment.split(",")) == 1:
        return json_response(200, found[0])
    return json_response(200, found)


def ordered(objs: Iterable[dict], desc: bool) -> list[dict]:
    """Rows sorted by id."""
    return sorted(objs, key=lambda obj: obj["id"], reverse=desc)

"""JSON and date/time text as Procountor reads it: exact decimals, YYYY-MM-DD, naive UTC datetimes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; a Decimal becomes a JSON number written digit for digit (no float on the way)."""
    return "".join(_parts(value)).encode("utf-8")


def _parts(value: Any):
    """JSON text pieces of a value made of dicts, lists, strings, numbers, booleans and None."""
    if isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ("," if index else "") + json.dumps(str(key), ensure_ascii=False) + ":"
            yield from _parts(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _parts(item)
        yield "]"
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a number Procountor can store")
        yield format(value, "f")
    elif isinstance(value, date | datetime):
        raise TypeError("format dates with codec.day/codec.moment before encoding")
    else:
        yield json.dumps(value, ensure_ascii=False)


def loads(content: bytes) -> Any:
    """Parse an answer; fractions become Decimals so prices and VAT rates stay exact."""
    return json.loads(content.decode("utf-8"), parse_float=Decimal)


def day(value: date) -> str:
    """YYYY-MM-DD."""
    return value.isoformat()


def moment(value: datetime) -> str:
    """YYYY-MM-DDTHH:MM:SS in UTC, without a zone suffix.

    Procountor's examples show no zone, and which zone it means is UNCONFIRMED; we send UTC. An aware
    datetime is converted to UTC first; a naive one is taken to be UTC already.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def parse_moment(raw: Any) -> datetime | None:
    """A Procountor timestamp as an aware UTC datetime (a zone-less one is read as UTC); None if garbled."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

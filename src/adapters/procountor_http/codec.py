"""JSON and date/time text as Procountor reads it: exact decimals, YYYY-MM-DD, naive UTC datetimes."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; a Decimal becomes a JSON number written digit for digit (no float on the way).

    The C encoder writes everything; each Decimal first comes out as a string marker carrying a random
    nonce of this call, which is then replaced by the number's digits. A marker cannot be mistaken for
    data: data would have to contain this call's nonce.
    """
    digits: list[str] = []
    nonce = secrets.token_hex(8)

    def as_marker(item: Any) -> str:
        if isinstance(item, Decimal):
            if not item.is_finite():
                raise ValueError(f"{item} is not a number Procountor can store")
            digits.append(format(item, "f"))
            return f"{nonce}:{len(digits) - 1}"
        if isinstance(item, date | datetime):
            raise TypeError("format dates with codec.day/codec.moment before encoding")
        raise TypeError(f"{type(item).__name__} is not JSON")

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=as_marker)
    if digits:
        text = re.sub(f'"{nonce}:(\\d+)"', lambda found: digits[int(found.group(1))], text)
    return text.encode("utf-8")


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

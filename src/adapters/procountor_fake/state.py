"""Thread-safe in-memory store of the fake company: partners, products, invoices, tokens, versions."""

# Versions are ISO datetimes with milliseconds (`YYYY-MM-DDTHH:MM:SS.mmm`, UTC, no zone), taken from
# the injected clock and bumped by 1 ms when the clock has not moved, so every update gets a strictly
# greater version.

import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .messages import ApiError

VERSION_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
# Distinct id ranges make a partner id passed where a product id belongs fail loudly.
_FIRST_IDS = {"partners": 100001, "products": 200001, "invoices": 300001}


def utc_now() -> datetime:
    """Default clock."""
    return datetime.now(UTC)


def naive_utc(moment: datetime) -> datetime:
    """Zone-less UTC, the way Procountor renders datetimes."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def format_version(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmm`."""
    return moment.strftime(VERSION_FORMAT)[:-3]


def parse_datetime(text: str) -> datetime:
    """A Procountor datetime (`YYYY-MM-DDTHH:MM:SS`, optional fraction), zone-less UTC."""
    return naive_utc(datetime.fromisoformat(text))


@dataclass
class Token:
    """An issued access token."""

    client_id: str
    expires_at: datetime


class Store:
    """All mutable state of the fake, guarded by one re-entrant lock."""

    def __init__(self, clock: Callable[[], datetime]):
        self.lock = threading.RLock()
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget every object and token."""
        with self.lock:
            self.tables: dict[str, dict[int, dict]] = {name: {} for name in _FIRST_IDS}
            self.tokens: dict[str, Token] = {}
            self._next_ids = dict(_FIRST_IDS)
            self._next_invoice_number = 1
            self._last_version = datetime.min

    def now(self) -> datetime:
        """The injected clock, zone-less UTC."""
        return naive_utc(self.clock())

    def next_version(self) -> str:
        """A version strictly greater than every earlier one."""
        now = self.now()
        candidate = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if candidate <= self._last_version:
            candidate = self._last_version + timedelta(milliseconds=1)
        self._last_version = candidate
        return format_version(candidate)

    def insert(self, table: str, obj: dict) -> dict:
        """Store a new object with a fresh id and version; returns a copy."""
        obj["id"] = self._next_ids[table]
        self._next_ids[table] += 1
        obj["version"] = self.next_version()
        self.tables[table][obj["id"]] = obj
        return copy.deepcopy(obj)

    def replace(self, table: str, obj: dict) -> dict:
        """Overwrite an existing object, bumping its version; returns a copy."""
        obj["version"] = self.next_version()
        self.tables[table][obj["id"]] = obj
        return copy.deepcopy(obj)

    def get(self, table: str, object_id: int) -> dict:
        """The stored object (not a copy) or a 404."""
        obj = self.tables[table].get(object_id)
        if obj is None:
            raise ApiError(404, message=f"{table[:-1].capitalize()} {object_id} not found")
        return obj

    def snapshot(self, table: str) -> list[dict]:
        """Deep copies of a table, ordered by id."""
        with self.lock:
            return [copy.deepcopy(obj) for _, obj in sorted(self.tables[table].items())]

    def next_invoice_number(self) -> int:
        """Procountor's own running invoice number."""
        number = self._next_invoice_number
        self._next_invoice_number += 1
        return number

    def issue_token(self, client_id: str, lifetime_s: float) -> str:
        """A new opaque bearer token."""
        token = secrets.token_urlsafe(32)
        self.tokens[token] = Token(client_id, self.now() + timedelta(seconds=lifetime_s))
        return token

    def token(self, value: str) -> Token | None:
        """The token record, expired or not."""
        return self.tokens.get(value)

"""Field rules that turn a request body into Procountor-shaped 400 error entries."""

import re
from datetime import date
from decimal import Decimal
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_Y_TUNNUS = re.compile(r"^(\d{7})-(\d)$")
_Y_TUNNUS_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
_MISSING = object()


def error(field: str | None, message: str, status: int = 400) -> dict:
    """One entry of the `errors` list, as Procountor returns it."""
    entry: dict[str, Any] = {"status": status, "message": message}
    if field is not None:
        entry["field"] = field
    return entry


def is_number(value: Any) -> bool:
    """JSON numbers only: request bodies are parsed with parse_float=Decimal, so no bools or strings."""
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def valid_y_tunnus(code: str) -> bool:
    """Finnish business ID (Y-tunnus) check: weights 7,9,10,5,8,4,2, mod 11, remainder 1 is never valid."""
    match = _Y_TUNNUS.match(code)
    if not match:
        return False
    remainder = sum(int(d) * w for d, w in zip(match.group(1), _Y_TUNNUS_WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return False
    return int(match.group(2)) == (0 if remainder == 0 else 11 - remainder)


def parse_date(value: Any) -> date | None:
    """A strict `YYYY-MM-DD` date, or None."""
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class Checker:
    """Collects every violation of one body (Procountor reports all of them, not just the first)."""

    def __init__(self) -> None:
        self.errors: list[dict] = []

    def fail(self, field: str | None, message: str) -> None:
        """Record one violation."""
        self.errors.append(error(field, message))

    def get(self, obj: Any, path: str, key: str, *, required: bool) -> Any:
        """The value at obj[key], recording a 'blank' violation when required and missing."""
        value = obj.get(key, _MISSING) if isinstance(obj, dict) else _MISSING
        if value is _MISSING or value is None or value == "":
            if required:
                self.fail(path, f"Value of the '{path}' cannot be blank")
            return _MISSING
        return value

    def string(self, obj: Any, path: str, key: str, *, max_len: int, required: bool = False, min_len: int = 0) -> Any:
        """A string field with length limits."""
        value = self.get(obj, path, key, required=required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.fail(path, f"Value of the '{path}' must be a string")
        elif not min_len <= len(value) <= max_len:
            self.fail(path, f"Length of the '{path}' must be between {min_len} and {max_len}")
        return value

    def enum(self, obj: Any, path: str, key: str, allowed: frozenset, *, required: bool = False) -> Any:
        """A field whose value must be one of `allowed`."""
        value = self.get(obj, path, key, required=required)
        if value is _MISSING:
            return None
        if not isinstance(value, str | int) or isinstance(value, bool) or value not in allowed:
            self.fail(path, f"Value '{value}' of the '{path}' is not allowed")
        return value

    def number(
        self,
        obj: Any,
        path: str,
        key: str,
        *,
        required: bool = False,
        low: Decimal | None = None,
        high: Decimal | None = None,
    ) -> Decimal | None:
        """A JSON number with optional inclusive bounds."""
        value = self.get(obj, path, key, required=required)
        if value is _MISSING:
            return None
        if not is_number(value):
            self.fail(path, f"Value of the '{path}' must be a number")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(path, f"Value of the '{path}' must be between {low} and {high}")
        return Decimal(value)

    def boolean(self, obj: Any, path: str, key: str, *, required: bool = False) -> bool | None:
        """A JSON boolean."""
        value = obj.get(key) if isinstance(obj, dict) else None
        if value is None:
            if required:
                self.fail(path, f"Value of the '{path}' cannot be blank")
            return None
        if not isinstance(value, bool):
            self.fail(path, f"Value of the '{path}' must be a boolean")
            return None
        return value

    def day(self, obj: Any, path: str, key: str, *, required: bool = False) -> date | None:
        """A `YYYY-MM-DD` date field."""
        value = self.get(obj, path, key, required=required)
        if value is _MISSING:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.fail(path, f"Value of the '{path}' must be a date in format YYYY-MM-DD")
        return parsed

    def obj(self, parent: Any, path: str, key: str, *, required: bool = False) -> dict | None:
        """A nested object."""
        value = self.get(parent, path, key, required=required)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(path, f"Value of the '{path}' must be an object")
            return None
        return value

    def windows_1252(self, value: Any, path: str = "") -> None:
        """Every string anywhere in the body must be encodable in Windows-1252."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.windows_1252(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.windows_1252(item, f"{path}[{index}]")
        elif isinstance(value, str):
            try:
                value.encode("cp1252")
            except UnicodeEncodeError:
                self.fail(path, f"Value of the '{path}' contains characters outside Windows-1252")

"""Transport-neutral request/response values and the JSON codec the fake speaks."""

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs


@dataclass
class FakeRequest:
    """One HTTP request as the fake sees it, whichever way it arrived."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # keys lower-cased
    body: bytes = b""
    received_at: float = field(default_factory=time.monotonic)
    """When the request arrived (monotonic); the rate limit and the request log count arrivals, not the
    moment a busy fake got round to answering."""

    @classmethod
    def build(cls, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes):
        """Normalise method, query and header names."""
        query = parse_qs(query_string, keep_blank_values=True)
        lowered = {k.lower(): v for k, v in headers.items()}
        return cls(method.upper(), path, query, lowered, body)

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class FakeResponse:
    """What the fake answers; `fault` asks the transport to time out or drop instead of answering."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None  # None | "timeout" | "drop"


class ApiError(Exception):
    """A Procountor error answer: status plus the `errors` list."""

    def __init__(
        self,
        status: int,
        errors: list[dict] | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(status, errors, message)
        self.status = status
        self.errors = errors if errors is not None else [{"status": status, "message": message or "ERROR"}]
        self.headers = headers or {}

    def response(self) -> FakeResponse:
        """The error as a response with the documented body shape."""
        return json_response(self.status, {"errors": self.errors}, self.headers)


def _default(value: Any) -> Any:
    """Money and other Decimals go out as JSON numbers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    """JSON bytes, Decimals as numbers."""
    return json.dumps(payload, default=_default, ensure_ascii=False).encode("utf-8")


def loads(raw: bytes) -> Any:
    """Parse a request body; floats become Decimals so money stays exact."""
    return json.loads(raw.decode("utf-8"), parse_float=Decimal)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> FakeResponse:
    """A JSON response."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return FakeResponse(status, dumps(payload), all_headers)


def json_body(request: FakeRequest) -> Any:
    """The request body as JSON, or a 400 naming the problem."""
    if not request.body:
        raise ApiError(400, message="Request body is missing")
    try:
        return loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, message=f"Malformed JSON: {exc}") from exc


def json_object(request: FakeRequest) -> dict:
    """The request body, which must be a JSON object."""
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, message="Request body must be a JSON object")
    return body


def decode_header(raw: bytes) -> str:
    """Header bytes as text: UTF-8 when valid, else Latin-1 (non-ASCII header encoding is UNCONFIRMED)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")

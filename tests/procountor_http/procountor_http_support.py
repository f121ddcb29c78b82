"""Test support for the HTTP gateway: a shared fake clock, a recording transport, domain builders."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx

from spotilla_procountor.adapters.procountor_fake.fake import FakeProcountor
from spotilla_procountor.domain.procountor import Address, InvoiceDraft, InvoiceRow, NewPartner, NewProduct

CLIENT_ID = "spotilla-client"
CLIENT_SECRET = "cs-TOP-SECRET-31337"
API_KEY = "ak-PRIVATE-KEY-90210"


class FakeClock:
    """One time line for the fake (aware datetimes) and the gateway (monotonic seconds)."""

    def __init__(self) -> None:
        self._start = datetime(2025, 1, 31, 8, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return 1000.0 + self._elapsed

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed += seconds


class RecordingTransport(httpx.BaseTransport):
    """Passes requests on and keeps a copy of each, to check what went over the wire."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class Sleeps(list):
    """A sleep that only records how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# ---------------------------------------------------------------- domain values


def y_tunnus(number: int) -> str:
    """A valid Finnish business ID (Y-tunnus) built from a 7-digit number (skips numbers with no check digit)."""
    while True:
        digits = f"{number:07d}"
        remainder = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if remainder != 1:
            return f"{digits}-{0 if remainder == 0 else 11 - remainder}"
        number += 1


ADDRESS = Address(name="Acme Oy", street="Teollisuuskatu 1", zip="00510", city="Helsinki", country="FINLAND")


def new_partner(n: int = 1, **changes) -> NewPartner:
    values = {
        "name": f"Asiakas {n} Oy",
        "business_id": y_tunnus(1000000 + n * 13),
        "address": ADDRESS,
        "email": f"laskut{n}@example.fi",
        "payment_term_days": 14,
    }
    return NewPartner(**{**values, **changes})


def new_product(n: int = 1, **changes) -> NewProduct:
    values = {
        "name": f"Asennustyö {n}",
        "code": f"TYO-{n}",
        "unit": "HOUR",
        "price": Decimal("55.10"),
        "vat_percent": Decimal("25.5"),
    }
    return NewProduct(**{**values, **changes})


def invoice_draft(partner_id: int, key: str = "SPOT-7-1001", **changes) -> InvoiceDraft:
    row = InvoiceRow(
        product_id=None,
        product="Asennustyö",
        product_code="TYO-1",
        quantity=Decimal("2.5"),
        unit="HOUR",
        unit_price=Decimal("55.10"),
        vat_percent=Decimal("25.5"),
        total_excluding_vat=Decimal("137.75"),
        vat_amount=Decimal("35.13"),
    )
    values = {
        "external_key": key,
        "partner_id": partner_id,
        "counterparty_name": "Acme Oy",
        "counterparty_business_id": y_tunnus(1234567),
        "counterparty_address": ADDRESS,
        "billing_address": None,
        "invoice_date": date(2025, 1, 31),
        "due_date": date(2025, 2, 14),
        "delivery_date": date(2025, 1, 30),
        "order_reference": "Työmääräys 1001",
        "rows": (row,),
    }
    return InvoiceDraft(**{**values, **changes})


def token_requests(fake: FakeProcountor) -> int:
    """How many token requests the fake has seen."""
    return sum(1 for entry in fake.request_log if entry[2].endswith("/oauth/token"))


def api_requests(fake: FakeProcountor) -> list[tuple[str, str, int]]:
    """(method, path, status) of every non-token request the fake has seen."""
    return [(m, p, s) for _, m, p, s, _ in fake.request_log if not p.endswith("/oauth/token")]


class ScriptedProcountor:
    """A tiny Procountor for httpx.MockTransport: issues tokens, answers API calls from a script.

    The last scripted answer repeats. An Exception in the script is raised as a network failure would be.
    """

    def __init__(self, *answers, token_status: int = 200) -> None:
        self.script = list(answers)
        self.token_status = token_status
        self.requests: list[httpx.Request] = []
        self.tokens_issued = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            if request.url.path.endswith("/oauth/token"):
                return self._token()
            answer = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _token(self) -> httpx.Response:
        if self.token_status != 200:
            return httpx.Response(self.token_status, json={"error": "invalid_client"})
        self.tokens_issued += 1
        return httpx.Response(200, json={"access_token": f"tok-{self.tokens_issued}", "expires_in": 3600})

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if not r.url.path.endswith("/oauth/token")]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def page(rows: list[dict], total: int | None = None) -> httpx.Response:
    """A search answer."""
    meta = {"pageNumber": 0, "pageSize": 200, "resultCount": len(rows)}
    if total is not None:
        meta["totalCount"] = total
    return httpx.Response(200, json={"results": rows, "meta": meta})

"""Fixtures for the fake Procountor tests: a fake, an authorised httpx client, valid request bodies."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from spotilla_procountor.adapters.procountor_fake import FakeProcountor

BASE_URL = "http://fake-procountor.local"
CREDENTIALS = {"client_id": "demo-client", "client_secret": "demo-secret", "api_key": "demo-api-key"}


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def fetch_token(client: httpx.Client, prefix: str = "/api", **overrides: str) -> httpx.Response:
    """POST the client-credentials form to {prefix}/oauth/token."""
    form = {"grant_type": "client_credentials", **CREDENTIALS, "redirect_uri": "https://example.com/cb"}
    return client.post(f"{prefix}/oauth/token", data={**form, **overrides})


def authorised(client: httpx.Client) -> httpx.Client:
    """Fetch a token and send it on every request from now on."""
    token = fetch_token(client).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> FakeProcountor:
    return FakeProcountor(clock=clock)


@pytest.fixture
def raw(fake: FakeProcountor) -> Iterator[httpx.Client]:
    """A client without a token."""
    with httpx.Client(transport=fake.transport(), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def api(raw: httpx.Client) -> httpx.Client:
    """A client with a valid bearer token; paths are relative to the host (use /api/...)."""
    return authorised(raw)


def _partner(**overrides: object) -> dict:
    body = {
        "name": "Acme Oy",
        "type": "CUSTOMER",
        "address": {"name": "Acme Oy", "street": "Katu 1", "zip": "00100", "city": "Helsinki", "country": "FINLAND"},
        "invoicingInfo": {"identifier": "1234567-1", "identifierType": "FI"},
        "paymentInfo": {"paymentMethod": "BANK_TRANSFER"},
    }
    return {**body, **overrides}


def _product(**overrides: object) -> dict:
    body = {
        "type": "SALES",
        "name": "Widget",
        "code": "W-1",
        "unit": "PIECE",
        "price": 10.0,
        "discount": 0,
        "vat": 25.5,
        "currency": "EUR",
        "active": True,
    }
    return {**body, **overrides}


def _row(**overrides: object) -> dict:
    row = {
        "product": "Widget",
        "quantity": 2,
        "unit": "PIECE",
        "unitPrice": 10.0,
        "discountPercent": 0,
        "vatPercent": 25.5,
    }
    return {**row, **overrides}


def _invoice(**overrides: object) -> dict:
    body = {
        "type": "SALES_INVOICE",
        "date": "2025-01-31",
        "counterParty": {
            "counterPartyAddress": {
                "name": "Acme Oy",
                "street": "Katu 1",
                "zip": "00100",
                "city": "Helsinki",
                "country": "FINLAND",
            }
        },
        "paymentInfo": {
            "paymentMethod": "BANK_TRANSFER",
            "currency": "EUR",
            "dueDate": "2025-02-14",
            "currencyRate": 1,
            "bankAccount": {"accountNumber": "FI2112345600000785"},
            "bankReferenceCode": "",
        },
        "extraInfo": {"accountingByRow": False, "unitPricesIncludeVat": False},
        "discountPercent": 0,
        "invoiceChannel": "NO_SENDING",
        "language": "FINNISH",
        "vatStatus": 1,
        "originalInvoiceNumber": "EXT-42",
        "invoiceRows": [_row()],
    }
    return {**body, **overrides}


@pytest.fixture
def partner_body() -> Callable[..., dict]:
    """A valid business partner body; keyword arguments replace top-level fields."""
    return _partner


@pytest.fixture
def product_body() -> Callable[..., dict]:
    """A valid product body."""
    return _product


@pytest.fixture
def invoice_body() -> Callable[..., dict]:
    """A valid SALES_INVOICE body."""
    return _invoice


@pytest.fixture
def row_body() -> Callable[..., dict]:
    """A valid invoice row."""
    return _row


@pytest.fixture
def request_token() -> Callable[..., httpx.Response]:
    """fetch_token(client, prefix="/api", **form overrides)."""
    return fetch_token


@pytest.fixture
def authorise() -> Callable[[httpx.Client], httpx.Client]:
    """Give a client a fresh bearer token."""
    return authorised

"""The Procountor company of a scenario as people and accidents touch it: the accountant's desk, a stop mid-run."""

from __future__ import annotations

from decimal import Decimal

import httpx

from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.domain.ports import ProcountorGateway
from spotilla_procountor.domain.procountor import InvoiceDraft, InvoiceRef

BASE_URL = "http://fake-procountor.local"
CREDENTIALS = {"client_id": "demo-client", "client_secret": "demo-secret", "api_key": "demo-api-key"}
BANK_ACCOUNT = "FI4950009420028730"


class SteppingTimer:
    """Monotonic time that moves only when someone sleeps, so waits in the gateway cost nothing."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


class ProcountorDesk:
    """What an accountant does by hand in the Procountor company: add partners and products, edit partners."""

    def __init__(self, fake: FakeProcountor) -> None:
        self._fake = fake
        self._http = httpx.Client(transport=fake.transport(), base_url=BASE_URL)
        form = {"grant_type": "client_credentials", **CREDENTIALS}
        token = self._http.post("/api/oauth/token", data=form).json()["access_token"]
        self._http.headers["Authorization"] = f"Bearer {token}"

    def add_partner(self, name: str, business_id: str | None, *, kind: str = "CUSTOMER", **extra: object) -> dict:
        address = {"name": name, "street": "Tilikatu 1", "zip": "00100", "city": "Helsinki", "country": "FINLAND"}
        info = {"identifier": business_id, "identifierType": "FI"} if business_id else {}
        body = {
            "name": name,
            "type": kind,
            "address": address,
            "billingAddress": address,
            "invoicingInfo": info,
            "paymentInfo": {"paymentMethod": "BANK_TRANSFER"},
            **extra,
        }
        return self._post("/api/businesspartners", body)

    def add_product(self, code: str, name: str, unit: str, price: Decimal, vat: Decimal) -> dict:
        body = {
            "type": "SALES",
            "name": name,
            "code": code,
            "unit": unit,
            "price": float(price),
            "discount": 0,
            "vat": float(vat),
            "currency": "EUR",
            "active": True,
        }
        return self._post("/api/products", body)

    def edit_partner(self, partner_id: int, changes: dict) -> dict:
        return self._fake.edit_partner(partner_id, changes)

    def _post(self, path: str, body: dict) -> dict:
        answer = self._http.post(path, json=body)
        answer.raise_for_status()
        return answer.json()

    def close(self) -> None:
        self._http.close()


class IntegrationStopped(BaseException):
    """The integration's process ended abruptly (power cut, kill, redeploy): nothing after it runs."""


class StopsAroundInvoice:
    """Procountor as seen by an integration that stops while creating one invoice, before or after sending it."""

    def __init__(self, inner: ProcountorGateway, external_key: str, *, after_sending: bool) -> None:
        self._inner = inner
        self._key = external_key
        self._after_sending = after_sending

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def create_invoice(self, draft: InvoiceDraft) -> InvoiceRef:
        if draft.external_key != self._key:
            return self._inner.create_invoice(draft)
        if self._after_sending:
            self._inner.create_invoice(draft)
        raise IntegrationStopped(f"stopped around the invoice {self._key}")

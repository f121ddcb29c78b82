"""HttpProcountorGateway: the ProcountorGateway port over Procountor's REST API (M2M API-key login)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import httpx

from spotilla_procountor.domain.errors import FieldNotSendable, OutcomeUnknown, TemporarilyUnavailable
from spotilla_procountor.domain.procountor import (
    CompanyIdentity,
    InvoiceDraft,
    InvoiceRef,
    NewPartner,
    NewProduct,
    Partner,
    ProcountorProduct,
)

from . import codec, mapping, readers
from .auth import FORM_CONTENT_TYPE, Credentials, Token, TokenManager, parse_token_answer
from .errors import Verdict, error_for, token_error_for, verdict
from .observer import ProcountorObserver
from .ratelimit import RateLimiter
from .retry import DEFAULT_RETRY, RetryPolicy
from .transport import Exchange, network_transport, require_safe_url

PAGE_SIZE = 200  # Procountor's maximum page size and batch size
JSON = "application/json"


def _utc_now() -> datetime:
    return datetime.now(UTC)


TOKEN_RENEWALS = 3  # token renewals per call after a 401
PAGING_REREADS = 2  # whole re-reads of a search whose result shrank while it was paged
log = logging.getLogger("spotilla_procountor.procountor")


class HttpProcountorGateway:
    """One tenant's Procountor company over HTTP; satisfies `ProcountorGateway` and raises only its errors.

    Use as a context manager (or call `close()`). Pass the same `RateLimiter` to every gateway that
    shares one client credential, so that together they stay under Procountor's per-client limit.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_prefix: str = "/api",
        client_id: str,
        client_secret: str,
        api_key: str,
        redirect_uri: str | None = None,
        bank_account: str | None = None,
        vat_status: int = 1,
        identifier_type: str = "FI",
        rate_limiter: RateLimiter | None = None,
        max_in_flight: int = 8,
        timeout: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        observer: ProcountorObserver | None = None,
    ) -> None:
        require_safe_url(base_url, in_process=transport is not None)
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._prefix = "/" + api_prefix.strip("/")
        self._credentials = Credentials(client_id, client_secret, api_key, redirect_uri)
        self._bank_account = bank_account
        self._vat_status = vat_status
        self._identifier_type = identifier_type
        self._http = httpx.Client(
            base_url=self._base_url + self._prefix,
            transport=transport or network_transport(max_in_flight),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"Accept": JSON},
            follow_redirects=False,
        )
        self._exchange = Exchange(
            client=self._http,
            limiter=rate_limiter or RateLimiter(20, monotonic=monotonic, sleep=sleep),
            max_in_flight=max_in_flight,
            policy=retry,
            sleep=sleep,
            clock=clock,
            monotonic=monotonic,
            observer=observer,
        )
        self._tokens = TokenManager(self._fetch_token, monotonic=monotonic)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> HttpProcountorGateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection pool."""
        self._http.close()

    def verify_credentials(self) -> None:
        """One token request; raises AuthenticationFailed when Procountor refuses the credentials."""
        self._tokens.current()

    def company(self) -> CompanyIdentity:
        """The company these credentials log in to (`GET /company`): the tenant is bound to it."""
        return self._read(readers.company_from, self._request("GET", "/company"), "GET /company")

    def __repr__(self) -> str:
        return (
            f"HttpProcountorGateway(base_url={self._base_url!r}, api_prefix={self._prefix!r}, "
            f"client_id={self._credentials.client_id!r})"
        )

    # ------------------------------------------------------------ products and VAT

    def vat_percentages(self) -> frozenset[Decimal]:
        """VAT percentages in use for the company's sales (Finland's entry; every entry if there is none)."""
        return self._read(readers.sales_vat_percentages, self._request("GET", "/vats/default"), "GET /vats/default")

    def list_products(self) -> Iterator[ProcountorProduct]:
        """Every sales product, by keyset paging on `previousId` (products have no `page` parameter)."""
        previous: int | None = None
        while True:
            params: dict[str, Any] = {"type": "SALES", "size": PAGE_SIZE, "orderById": "ASC"}
            if previous is not None:
                params["previousId"] = previous
            rows = readers.results(self._request("GET", "/products", params=params))
            fresh = [r for r in rows if previous is None or readers.row_id(r) > previous]
            yield from (self._read(readers.product_from, r, "GET /products") for r in fresh)
            if len(rows) < PAGE_SIZE or not fresh:
                return
            previous = max(readers.row_id(r) for r in fresh)

    def create_product(self, product: NewProduct) -> ProcountorProduct:
        """Creates a sales product in the product register."""
        body = mapping.product_body(product)
        mapping.check_sendable(body, mapping.PRODUCT_MAX_LENGTHS)
        answer = self._request("POST", "/products", body=body, create=True)
        return self._read(readers.product_from, answer, "POST /products", create=True)

    # ------------------------------------------------------------ partners

    def procountor_now(self) -> datetime | None:
        """Procountor's time from the Date header of its latest answer (never ahead of it); None without one.

        Before any answer, the access token is fetched to learn it: the next call needs the token anyway.
        """
        if self._exchange.server_clock.now() is None:
            self._tokens.current()
        return self._exchange.server_clock.now()

    def list_partners(self, *, changed_since: datetime | None = None) -> Iterator[Partner]:
        """CUSTOMER partners (basic info, `complete=False`), all or those changed since a moment.

        The window is left open at the end on purpose: pages are numbered over an id-ordered result, so a
        partner leaving the result while it is read would shift the rest and hide one. With an open end, a
        partner changed meanwhile stays in the result (or joins it, which only repeats one); with a closed
        end (`versionEndDate`), every change during the read would take its partner out.
        """
        params: dict[str, Any] = {"type": "CUSTOMER", "orderById": "ASC"}
        if changed_since is not None:
            params["versionStartDate"] = codec.moment(changed_since)
        for row in self._pages("/businesspartners", params):
            yield self._read(readers.partner_from_row, row, "GET /businesspartners")

    def get_partners(self, ids: Sequence[int]) -> list[Partner]:
        """Full details of partners, 200 ids per request; unknown ids are left out."""
        unique = list(dict.fromkeys(int(i) for i in ids))
        partners: list[Partner] = []
        for start in range(0, len(unique), PAGE_SIZE):
            chunk = unique[start : start + PAGE_SIZE]
            answer = self._request("GET", "/businesspartners/" + ",".join(map(str, chunk)), missing_ok=True)
            rows = answer if isinstance(answer, list) else [answer] if isinstance(answer, dict) else []
            partners += [self._read(readers.partner_from, r, "GET /businesspartners/{ids}") for r in rows]
        return partners

    def find_partners_by_business_id(self, business_id: str) -> list[Partner]:
        """CUSTOMER partners whose business ID is exactly `business_id` (the server may match loosely)."""
        if not business_id.isascii():
            raise FieldNotSendable([("identifier", f"business ID {business_id!r} is not plain ASCII")])
        params = {"type": "CUSTOMER", "identifierType": self._identifier_type, "orderById": "ASC"}
        rows = self._pages("/businesspartners", params, headers={"identifier": business_id})
        found = (self._read(readers.partner_from_row, r, "GET /businesspartners") for r in rows)
        return [p for p in found if p.business_id == business_id and p.type == "CUSTOMER"]

    def create_partner(self, partner: NewPartner) -> Partner:
        """Creates a business partner of type CUSTOMER."""
        body = mapping.partner_body(partner, identifier_type=self._identifier_type)
        mapping.check_sendable(body, mapping.MAX_LENGTHS)
        answer = self._request("POST", "/businesspartners", body=body, create=True)
        return self._read(readers.partner_from, answer, "POST /businesspartners", create=True)

    # ------------------------------------------------------------ invoices

    def create_invoice(self, draft: InvoiceDraft) -> InvoiceRef:
        """Creates a sales invoice; Procountor makes it UNFINISHED. Never approves or sends it."""
        body = mapping.invoice_body(draft, bank_account=self._bank_account, vat_status=self._vat_status)
        mapping.check_sendable(body, mapping.MAX_LENGTHS)
        answer = self._request("POST", "/invoices", body=body, create=True)
        return self._read(readers.invoice_ref_from, answer, "POST /invoices", create=True)

    def find_invoices_by_key(self, key: str) -> list[InvoiceRef]:
        """Invoices whose originalInvoiceNumber is exactly `key` (whether Procountor matches exactly is UNCONFIRMED)."""
        params = {"originalInvoiceNumber": key, "types": "SALES_INVOICE", "orderById": "ASC"}
        found = (self._read(readers.invoice_ref_from, r, "GET /invoices") for r in self._pages("/invoices", params))
        return [ref for ref in found if ref.external_key == key]

    # ------------------------------------------------------------ the choke point

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        create: bool = False,
        missing_ok: bool = False,
    ) -> Any:
        """Every API call passes here: token, limits, retries, one token renewal on 401, classification."""
        what = f"{method} {path}"
        content = None if body is None else codec.dumps(body)
        sent: list[Token] = []  # the token each attempt carried, read when the attempt has its turn

        def build(rejected: Token | None) -> httpx.Request:
            token = self._tokens.current() if rejected is None else self._tokens.renew(rejected)
            sent.append(token)
            return self._build(method=method, path=path, params=params, headers=headers, content=content, token=token)

        rejected: Token | None = None
        # A 401 after the token endpoint has just accepted our credentials means the token went stale on the
        # way (a short-lived token, a long queue), not that the credentials are wrong: renew and try again, a
        # few times. Wrong credentials fail at the token endpoint itself.
        for _attempt in range(1 + TOKEN_RENEWALS):
            response = self._exchange.send(partial(build, rejected), what, create=create)
            if verdict(response.status_code) is not Verdict.REAUTHENTICATE:
                break
            rejected = sent[-1]
        if missing_ok and response.status_code == 404:
            return None
        if verdict(response.status_code) is not Verdict.OK:
            raise error_for(response, what)
        return self._json(response, what, create=create)

    def _build(
        self,
        *,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        content: bytes | None,
        token: Token,
    ) -> httpx.Request:
        """The request for one try, with the token current at that try."""
        all_headers = {**(headers or {}), "Authorization": f"Bearer {token.value}"}
        if content is not None:
            all_headers["Content-Type"] = JSON
        return self._http.build_request(method, path, params=params, headers=all_headers, content=content)

    def _fetch_token(self) -> tuple[str, float]:
        """POST {prefix}/oauth/token, form-encoded by hand so that Content-Type carries no charset."""
        form = self._credentials.token_form()
        build = partial(
            self._http.build_request, "POST", "/oauth/token", content=form, headers={"Content-Type": FORM_CONTENT_TYPE}
        )
        response = self._exchange.send(build, "POST /oauth/token", create=False, in_flight=False)
        if verdict(response.status_code) is not Verdict.OK:
            raise token_error_for(response)
        return parse_token_answer(response.content)

    def _pages(self, path: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> Iterator[dict]:
        """Rows of a page-numbered search; ends on an empty or short page, or when meta.totalCount is reached.

        Pages are numbered over a result that may change while it is read. A row that joins it shifts the
        rest by one, so a row comes twice (callers take the last); a row that leaves it (a partner made
        inactive) shifts the rest back, so one row would be missed. That shows as a smaller totalCount than
        the first page's, and then the whole result is read again (at most twice more).
        """
        for _attempt in range(1 + PAGING_REREADS):
            shrank = yield from self._pages_once(path, params, headers)
            if not shrank:
                return
            log.info("%s shrank while its pages were read; reading it again", path)

    def _pages_once(
        self, path: str, params: dict[str, Any], headers: dict[str, str] | None
    ) -> Generator[dict, None, bool]:
        """One pass over the pages; returns whether the result's totalCount went down on the way."""
        seen, first_total, shrank = 0, None, False
        for page in range(10**6):
            answer = self._request("GET", path, params={**params, "size": PAGE_SIZE, "page": page}, headers=headers)
            rows = readers.results(answer)
            yield from rows
            seen += len(rows)
            total = readers.total_count(answer)
            first_total = total if page == 0 else first_total
            shrank = shrank or (total is not None and first_total is not None and total < first_total)
            if len(rows) < PAGE_SIZE or (total is not None and seen >= total):
                return shrank
        return shrank

    @staticmethod
    def _json(response: httpx.Response, what: str, *, create: bool) -> Any:
        try:
            return codec.loads(response.content) if response.content else None
        except (ValueError, UnicodeDecodeError):
            raise _garbled(what, create) from None

    @staticmethod
    def _read(convert: Callable[[Any], Any], raw: Any, what: str, *, create: bool = False) -> Any:
        """Applies a mapping function to an answer; a malformed answer becomes a domain error."""
        try:
            return convert(raw)
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
            raise _garbled(what, create) from None


def _garbled(what: str, create: bool) -> Exception:
    if create:
        return OutcomeUnknown(f"{what} was answered with something unreadable; the object may have been created")
    return TemporarilyUnavailable(f"Procountor answered {what} with something unreadable")

"""The gateway against the fake Procountor, in-process and over loopback HTTP: the port's promises hold."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from procountor_http_support import (
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    api_requests,
    invoice_draft,
    new_partner,
    new_product,
    token_requests,
    y_tunnus,
)

from spotilla_procountor.adapters.procountor_fake.fake import FakeProcountor
from spotilla_procountor.adapters.procountor_fake.faults import FaultPlan
from spotilla_procountor.domain.errors import OutcomeUnknown, ProcountorRejected, TemporarilyUnavailable
from spotilla_procountor.domain.procountor import Address
from spotilla_procountor.domain.procountor import Partner as DomainPartner

SKEW = timedelta(minutes=4, seconds=20)


def test_vat_percentages_are_the_companys_finnish_sales_rates(gateway):
    assert gateway.vat_percentages() == {Decimal(v) for v in ("25.5", "24", "14", "13.5", "10", "0")}


def test_a_created_product_is_listed_with_its_exact_price(gateway):
    created = gateway.create_product(new_product(1, price=Decimal("55.10")))

    assert created.code == "TYO-1"
    assert list(gateway.list_products()) == [created]
    assert created.price == Decimal("55.10")
    assert created.vat_percent == Decimal("25.5")


def test_450_products_are_listed_over_three_keyset_pages(gateway, seeder, fake):
    for n in range(450):
        seeder.create_product(new_product(n))

    listed = list(gateway.list_products())

    assert [p.code for p in listed] == [f"TYO-{n}" for n in range(450)]
    assert sum(1 for m, path, _ in api_requests(fake) if m == "GET" and path.endswith("/products")) == 3


def test_450_partners_are_listed_over_three_pages(gateway, seeder, fake):
    for n in range(450):
        seeder.create_partner(new_partner(n))

    listed = list(gateway.list_partners())

    assert len({p.id for p in listed}) == 450
    assert [p.id for p in listed] == sorted(p.id for p in listed)
    assert all(not p.complete and p.type == "CUSTOMER" for p in listed)
    assert sum(1 for m, path, _ in api_requests(fake) if m == "GET" and path.endswith("/businesspartners")) == 3


def test_partners_changed_since_a_moment_are_only_those_edited_after_it(gateway, fake, clock):
    first, second = gateway.create_partner(new_partner(1)), gateway.create_partner(new_partner(2))
    clock.advance(3600)
    watermark = clock.now()
    clock.advance(5)
    fake.edit_partner(second.id, {"name": "Asiakas 2 Oy (uusi nimi)"})

    changed = list(gateway.list_partners(changed_since=watermark))

    assert [p.id for p in changed] == [second.id]
    assert changed[0].name == "Asiakas 2 Oy (uusi nimi)"
    assert changed[0].version > watermark
    assert first.id not in {p.id for p in changed}


def test_procountors_time_is_read_from_its_date_header_and_never_ahead_of_it(make_gateway, clock):
    skewed = FakeProcountor(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY, clock=lambda: clock.now() + SKEW
    )
    gateway, recorder = make_gateway(fake=skewed)
    clock.advance(0.7)

    first = gateway.procountor_now()  # nothing heard yet: the token the next call needs is fetched to learn it
    assert [r.url.path for r in recorder.requests] == ["/api/oauth/token"]
    assert first is not None
    assert timedelta(seconds=-1) < first - (clock.now() + SKEW) <= timedelta(0)

    gateway.vat_percentages()
    clock.advance(42)
    later = gateway.procountor_now()
    assert len(recorder.requests) == 2  # the token and the VAT read: no further request to tell the time
    assert later is not None
    assert timedelta(seconds=-1) < later - (clock.now() + SKEW) <= timedelta(0)


def test_a_created_partner_reads_back_in_full(gateway):
    created = gateway.create_partner(new_partner(1, payment_term_days=21, phone="+358 40 123 4567"))

    [again] = gateway.get_partners([created.id])

    assert again == created
    assert again.complete
    assert again.payment_term_days == 21
    assert again.address == Address(
        name="Acme Oy", street="Teollisuuskatu 1", zip="00510", city="Helsinki", country="FINLAND"
    )


def test_get_partners_skips_unknown_ids_and_batches_by_200(gateway, fake):
    ids = [gateway.create_partner(new_partner(n)).id for n in range(3)]

    found = gateway.get_partners([*ids, 999_999, *range(500_000, 500_300)])

    assert sorted(p.id for p in found) == ids
    batch_gets = [path for m, path, _ in api_requests(fake) if m == "GET" and "/businesspartners/" in path]
    assert len(batch_gets) == 2
    assert gateway.get_partners([999_999]) == []
    assert gateway.get_partners([]) == []


def test_a_partner_is_found_by_its_exact_business_id_only(gateway):
    wanted = gateway.create_partner(new_partner(1, business_id=y_tunnus(1234567)))
    gateway.create_partner(new_partner(2, business_id=y_tunnus(7654321)))

    found = gateway.find_partners_by_business_id(y_tunnus(1234567))

    assert [p.id for p in found] == [wanted.id]
    assert isinstance(found[0], DomainPartner)
    assert gateway.find_partners_by_business_id("1234567") == []


def test_an_invoice_is_created_unfinished_and_found_by_its_key(gateway, fake):
    partner = gateway.create_partner(new_partner(1))

    ref = gateway.create_invoice(invoice_draft(partner.id, "SPOT-7-1001"))

    assert ref.status == "UNFINISHED"
    assert ref.external_key == "SPOT-7-1001"
    assert ref.partner_id == partner.id
    assert gateway.find_invoices_by_key("SPOT-7-1001") == [
        type(ref)(
            id=ref.id,
            status="UNFINISHED",
            external_key="SPOT-7-1001",
            partner_id=partner.id,
            invoice_number=ref.invoice_number,
        )
    ]
    [stored] = fake.invoices()
    assert stored["invoiceRows"][0]["unitPrice"] == Decimal("55.10")
    assert stored["invoiceSumInfo"][0]["invoiceSumTotal"] == Decimal("172.88")


def test_find_invoices_by_key_ignores_keys_that_merely_contain_it(gateway):
    partner = gateway.create_partner(new_partner(1))
    gateway.create_invoice(invoice_draft(partner.id, "SPOT-7-10011"))

    assert gateway.find_invoices_by_key("SPOT-7-1001") == []


def test_an_invoice_procountor_rejects_is_reported_with_the_field(gateway):
    partner = gateway.create_partner(new_partner(1))

    with pytest.raises(ProcountorRejected) as caught:
        gateway.create_invoice(invoice_draft(partner.id, due_date=invoice_draft(1).invoice_date.replace(day=1)))

    assert caught.value.errors == [("paymentInfo.dueDate", "DUE_DATE_BEFORE_BILL_DATE")]


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_a_lost_invoice_answer_is_outcome_unknown_and_the_invoice_exists_once(gateway, fake, mode):
    partner = gateway.create_partner(new_partner(1))
    fake.set_faults(FaultPlan(commit_then_fail_rate={"POST /invoices": 1.0}, commit_then_fail_mode=mode))

    with pytest.raises(OutcomeUnknown):
        gateway.create_invoice(invoice_draft(partner.id, "SPOT-7-2002"))
    fake.set_faults(FaultPlan())

    assert len(gateway.find_invoices_by_key("SPOT-7-2002")) == 1
    assert sum(1 for m, path, _ in api_requests(fake) if m == "POST" and path.endswith("/invoices")) == 1
    assert len(fake.invoices()) == 1


def test_a_timed_out_create_is_outcome_unknown_and_never_resent(make_gateway, fake):
    gateway, _ = make_gateway(timeout=0.2)
    fake.set_faults(FaultPlan(timeout_rate={"POST /products": 1.0}, timeout_sleep_s=0.5))

    with pytest.raises(OutcomeUnknown):
        gateway.create_product(new_product(1))

    assert sum(1 for m, path, _ in api_requests(fake) if m == "POST") == 1
    assert len(fake.products()) == 1


def test_server_errors_on_reads_are_retried_then_reported_as_temporary(gateway, fake, sleeps):
    fake.set_faults(FaultPlan(error_rate={"GET /products": 1.0}))

    with pytest.raises(TemporarilyUnavailable):
        list(gateway.list_products())

    assert [s for _, _, s in api_requests(fake)] == [500] * 5
    assert len(sleeps) == 4


def test_a_burst_of_429_on_a_create_is_waited_out_and_creates_once(gateway, fake, sleeps):
    fake.set_faults(FaultPlan(burst_429={"POST /products": 2}, retry_after_s=7))

    created = gateway.create_product(new_product(1))

    assert [p["id"] for p in fake.products()] == [created.id]
    assert [s for m, _, s in api_requests(fake) if m == "POST"] == [429, 429, 200]
    assert sleeps[:2] == [7.0, 7.0]


def test_an_expired_token_is_renewed_before_use(make_gateway, fake, clock):
    fake.token_lifetime_s = 120
    gateway, _ = make_gateway()
    gateway.vat_percentages()
    clock.advance(100)  # past the renewal point (half of a short lifetime), before the expiry

    gateway.vat_percentages()

    assert token_requests(fake) == 2
    assert all(status == 200 for _, _, status in api_requests(fake))


def test_a_token_the_server_expired_early_is_renewed_on_401_and_the_retry_carries_it(make_gateway, fake, clock):
    fake.token_lifetime_s = 120
    frozen = clock.monotonic()
    gateway, recorder = make_gateway(monotonic=lambda: frozen)  # the gateway believes the token is fresh
    gateway.vat_percentages()
    clock.advance(600)

    assert gateway.vat_percentages()

    assert [s for _, _, s in api_requests(fake)] == [200, 401, 200]
    assert token_requests(fake) == 2
    api_calls = [r for r in recorder.requests if not r.url.path.endswith("/oauth/token")]
    assert api_calls[1].headers["Authorization"] != api_calls[2].headers["Authorization"]


def test_the_gateway_offers_every_method_of_the_port_with_the_same_parameters():
    import inspect

    from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway
    from spotilla_procountor.domain.ports import ProcountorGateway

    port_methods = [n for n, _ in inspect.getmembers(ProcountorGateway, inspect.isfunction) if not n.startswith("_")]
    assert len(port_methods) == 11
    for name in port_methods:
        ours = inspect.signature(getattr(HttpProcountorGateway, name)).parameters
        theirs = inspect.signature(getattr(ProcountorGateway, name)).parameters
        assert [(p.name, p.kind) for p in ours.values()] == [(p.name, p.kind) for p in theirs.values()], name


class DeactivatesAfterTheFirstPage(httpx.BaseTransport):
    """An accountant makes a partner inactive right after the first page of the partner list was served."""

    def __init__(self, inner: httpx.BaseTransport, fake: FakeProcountor, partner_id: int) -> None:
        self._inner, self._fake, self._partner_id = inner, fake, partner_id
        self.done = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        first_page = request.url.path.endswith("/businesspartners") and request.url.params.get("page") == "0"
        if first_page and not self.done:
            self.done = True
            self._fake.edit_partner(self._partner_id, {"registryInfo": {"active": False}})
        return response


def test_a_partner_leaving_the_list_while_it_is_paged_hides_no_other(make_gateway, connect, seeder, fake):
    created = [seeder.create_partner(new_partner(n)) for n in range(450)]
    _, inner = connect(fake)
    editor = DeactivatesAfterTheFirstPage(inner, fake, created[5].id)
    gateway, _ = make_gateway(transport=editor)

    listed = {p.id for p in gateway.list_partners()}

    assert editor.done
    assert listed == {p.id for p in created}  # the inactive one was on the first page; nobody fell between pages
    pages = [r for r in api_requests(fake) if r[0] == "GET" and r[1].endswith("/businesspartners")]
    assert len(pages) == 6  # three pages, then the shrunken result read again

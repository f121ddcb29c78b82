"""What goes over the wire follows the reference's field rules (checked on the recorded requests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs

from procountor_http_support import API_KEY, CLIENT_ID, CLIENT_SECRET, invoice_draft, new_partner, new_product, y_tunnus

from spotilla_procountor.domain.procountor import InvoiceRow


def _calls(recorder, method: str, suffix: str):
    return [r for r in recorder.requests if r.method == method and r.url.path.endswith(suffix)]


def test_the_token_call_is_a_plain_form_with_the_api_key_and_no_charset(make_gateway):
    gateway, recorder = make_gateway()
    gateway.vat_percentages()

    [token_call] = _calls(recorder, "POST", "/api/oauth/token")
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in token_call.headers
    assert token_call.url.query == b""
    assert parse_qs(token_call.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "api_key": [API_KEY],
    }


def test_the_redirect_uri_is_sent_only_when_configured(make_gateway):
    gateway, recorder = make_gateway(redirect_uri="https://spotilla.example/procountor")
    gateway.vat_percentages()

    [token_call] = _calls(recorder, "POST", "/oauth/token")
    assert parse_qs(token_call.content.decode())["redirect_uri"] == ["https://spotilla.example/procountor"]


def test_a_versioned_prefix_is_used_for_every_call(make_gateway):
    gateway, recorder = make_gateway(api_prefix="/v2512/api")
    gateway.vat_percentages()

    assert [r.url.path for r in recorder.requests] == ["/v2512/api/oauth/token", "/v2512/api/vats/default"]


def test_reads_never_carry_a_body_and_every_call_carries_the_bearer_token(make_gateway, seeder):
    seeder.create_partner(new_partner(1))
    gateway, recorder = make_gateway()
    list(gateway.list_products())
    list(gateway.list_partners(changed_since=datetime(2024, 1, 1, tzinfo=UTC)))
    gateway.find_partners_by_business_id(new_partner(1).business_id)
    gateway.find_invoices_by_key("SPOT-1")
    gateway.get_partners([1, 2])

    gets = [r for r in recorder.requests if r.method == "GET"]
    assert len(gets) == 5
    assert all(r.content == b"" and "Content-Type" not in r.headers for r in gets)
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in gets)


def test_the_business_id_search_sends_the_identifier_as_a_header(make_gateway):
    gateway, recorder = make_gateway()
    gateway.find_partners_by_business_id(y_tunnus(1234567))

    [search] = _calls(recorder, "GET", "/businesspartners")
    assert search.headers["identifier"] == y_tunnus(1234567)
    assert search.url.params["identifierType"] == "FI"
    assert search.url.params["type"] == "CUSTOMER"
    assert "identifier" not in search.url.params


def test_the_changed_since_filter_is_a_zone_less_utc_datetime(make_gateway):
    gateway, recorder = make_gateway()
    helsinki = timezone(timedelta(hours=2))
    list(gateway.list_partners(changed_since=datetime(2025, 1, 31, 10, 15, 30, 999_000, tzinfo=helsinki)))

    [search] = _calls(recorder, "GET", "/businesspartners")
    assert search.url.params["versionStartDate"] == "2025-01-31T08:15:30"


def test_paging_asks_for_the_maximum_page_in_id_order(make_gateway):
    gateway, recorder = make_gateway()
    list(gateway.list_products())
    list(gateway.list_partners())

    [products] = _calls(recorder, "GET", "/products")
    assert dict(products.url.params) == {"type": "SALES", "size": "200", "orderById": "ASC"}
    [partners] = _calls(recorder, "GET", "/businesspartners")
    assert dict(partners.url.params) == {"type": "CUSTOMER", "orderById": "ASC", "size": "200", "page": "0"}


def test_money_and_quantities_are_exact_json_numbers(make_gateway, seeder):
    partner = seeder.create_partner(new_partner(1))
    gateway, recorder = make_gateway()
    row = InvoiceRow(
        product_id=None,
        product="Tarvike",
        product_code=None,
        quantity=Decimal("3.333"),
        unit="PIECE",
        unit_price=Decimal("1234567890.10"),
        vat_percent=Decimal("25.5"),
        total_excluding_vat=Decimal("0"),
        vat_amount=Decimal("0"),
    )
    gateway.create_invoice(invoice_draft(partner.id, rows=(row,)))

    [post] = _calls(recorder, "POST", "/invoices")
    assert post.headers["Content-Type"] == "application/json"
    raw = post.content.decode()
    assert '"unitPrice":1234567890.10' in raw
    assert '"quantity":3.333' in raw
    assert '"vatPercent":25.5' in raw


def test_the_invoice_body_follows_the_reference_sketch(make_gateway, seeder):
    partner = seeder.create_partner(new_partner(1))
    gateway, recorder = make_gateway(vat_status=1)
    gateway.create_invoice(invoice_draft(partner.id, "SPOT-7-1001", email="laskut@acme.fi"))

    [post] = _calls(recorder, "POST", "/invoices")
    body = json.loads(post.content)
    assert "status" not in body
    assert "billingAddress" not in body
    assert body["type"] == "SALES_INVOICE"
    assert body["originalInvoiceNumber"] == "SPOT-7-1001"
    assert body["invoiceChannel"] == "EMAIL"
    assert body["counterParty"]["email"] == "laskut@acme.fi"
    assert body["paymentInfo"] == {
        "paymentMethod": "BANK_TRANSFER",
        "currency": "EUR",
        "dueDate": "2025-02-14",
        "currencyRate": 1,
        "bankAccount": {"accountNumber": "FI2112345600000785"},
        "bankReferenceCode": "",
    }
    assert body["extraInfo"] == {"accountingByRow": False, "unitPricesIncludeVat": False}
    assert (body["deliveryStartDate"], body["deliveryEndDate"]) == ("2025-01-30", "2025-01-30")
    assert body["invoiceRows"][0]["discountPercent"] == 0


def test_the_partner_body_carries_the_business_id_and_string_payment_terms(make_gateway):
    gateway, recorder = make_gateway()
    gateway.create_partner(new_partner(1, email=None, einvoice_address="003712345678", einvoice_operator="E204503"))

    [post] = _calls(recorder, "POST", "/businesspartners")
    body = json.loads(post.content)
    assert body["type"] == "CUSTOMER"
    assert body["invoicingInfo"]["identifier"] == new_partner(1).business_id
    assert body["invoicingInfo"]["identifierType"] == "FI"
    assert body["invoicingInfo"]["invoiceChannel"] == "ELECTRONIC_INVOICE"
    assert "email" not in body["invoicingInfo"]
    assert body["paymentInfo"] == {"paymentMethod": "BANK_TRANSFER", "paymentTermDays": "14", "currency": "EUR"}
    assert "registryInfo" not in body
    assert "billingAddress" not in body


def test_the_product_body_is_an_active_sales_product(make_gateway):
    gateway, recorder = make_gateway()
    gateway.create_product(new_product(1, price=Decimal("0.10")))

    [post] = _calls(recorder, "POST", "/products")
    assert post.content.decode().count('"price":0.10') == 1
    body = json.loads(post.content)
    assert {k: body[k] for k in ("type", "discount", "currency", "active", "unit")} == {
        "type": "SALES",
        "discount": 0,
        "currency": "EUR",
        "active": True,
        "unit": "HOUR",
    }

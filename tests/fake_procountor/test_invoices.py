"""As an integration I post completed work orders as sales invoices that wait, unfinished, for review."""

import pytest

INVOICES = "/api/invoices"


def create(api, body):
    response = api.post(INVOICES, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def fields_of(response):
    assert response.status_code == 400, response.text
    return [e["field"] for e in response.json()["errors"]]


def test_a_created_invoice_is_unfinished_numbered_and_totalled(api, fake, invoice_body):
    created = create(api, invoice_body())
    assert created["status"] == "UNFINISHED"
    assert created["invoiceNumber"] == 1
    assert created["id"] > 0 and created["version"] and created["created"]
    assert created["originalInvoiceNumber"] == "EXT-42"
    assert created["invoiceRows"][0]["unitPrice"] == 10.0
    assert created["invoiceSumInfo"] == [
        {
            "currency": "EUR",
            "inAccountingCurrency": True,
            "excludingVatTotal": 20.0,
            "vatSumTotal": 5.1,
            "invoiceSumTotal": 25.1,
        }
    ]
    assert created["paymentInfo"]["bankReferenceCode"]
    assert fake.invoices()[0]["status"] == "UNFINISHED"


def test_a_status_in_the_body_is_ignored(api, invoice_body):
    assert create(api, invoice_body(status="SENT"))["status"] == "UNFINISHED"


def test_totals_round_half_up_to_cents_and_honour_vat_inclusive_prices(api, invoice_body, row_body):
    body = invoice_body(
        invoiceRows=[
            row_body(quantity=1, unitPrice=0.10, vatPercent=25.5),
            row_body(quantity=3, unitPrice=0.01, vatPercent=14),
        ]
    )
    sums = create(api, body)["invoiceSumInfo"][0]
    assert sums["excludingVatTotal"] == 0.13
    assert sums["vatSumTotal"] == 0.03  # 0.0255 + 0.0042 = 0.0297
    inclusive = invoice_body(
        extraInfo={"accountingByRow": False, "unitPricesIncludeVat": True},
        invoiceRows=[row_body(quantity=1, unitPrice=12.55, vatPercent=25.5)],
    )
    sums = create(api, inclusive)["invoiceSumInfo"][0]
    assert (sums["excludingVatTotal"], sums["vatSumTotal"], sums["invoiceSumTotal"]) == (10.0, 2.55, 12.55)


def test_due_date_before_the_bill_date_is_rejected(api, invoice_body):
    body = invoice_body()
    body["paymentInfo"] = {**body["paymentInfo"], "dueDate": "2025-01-30"}
    response = api.post(INVOICES, json=body)
    assert response.json() == {
        "errors": [{"status": 400, "field": "paymentInfo.dueDate", "message": "DUE_DATE_BEFORE_BILL_DATE"}]
    }


def test_row_unit_outside_the_enum_and_vat_not_in_use_are_both_reported(api, invoice_body, row_body):
    body = invoice_body(invoiceRows=[row_body(), row_body(unit="KPL", vatPercent=24.5)])
    assert fields_of(api.post(INVOICES, json=body)) == ["invoiceRows[1].unit", "invoiceRows[1].vatPercent"]


def test_amounts_must_be_json_numbers(api, invoice_body, row_body):
    body = invoice_body(invoiceRows=[row_body(unitPrice="10.00", quantity="2")])
    assert fields_of(api.post(INVOICES, json=body)) == ["invoiceRows[0].quantity", "invoiceRows[0].unitPrice"]


def test_extra_info_needs_both_booleans(api, invoice_body):
    body = invoice_body(extraInfo={"accountingByRow": "no"})
    assert fields_of(api.post(INVOICES, json=body)) == ["extraInfo.accountingByRow", "extraInfo.unitPricesIncludeVat"]


@pytest.mark.parametrize("channel", ["EDIFACT", "PAPER_INVOICE", "FAX"])
def test_channels_not_allowed_on_post_are_rejected(api, invoice_body, channel):
    assert fields_of(api.post(INVOICES, json=invoice_body(invoiceChannel=channel))) == ["invoiceChannel"]


def test_length_limits_and_windows_1252(api, invoice_body):
    body = invoice_body(orderReference="r" * 71, originalInvoiceNumber="o" * 41, notes="ok \u2713")
    body["counterParty"] = {"counterPartyAddress": {"name": "n" * 81}}
    assert sorted(fields_of(api.post(INVOICES, json=body))) == sorted(
        ["orderReference", "originalInvoiceNumber", "counterParty.counterPartyAddress.name", "notes"]
    )


def test_an_invoice_needs_rows_and_a_buyer(api, invoice_body):
    body = invoice_body(invoiceRows=[])
    del body["counterParty"]
    assert fields_of(api.post(INVOICES, json=body)) == ["counterParty", "invoiceRows"]


def test_dates_must_be_iso_days(api, invoice_body):
    assert fields_of(api.post(INVOICES, json=invoice_body(date="31.01.2025"))) == ["date"]


def test_mail_channel_needs_a_postal_address(api, invoice_body):
    body = invoice_body(invoiceChannel="MAIL")
    body["counterParty"] = {"counterPartyAddress": {"name": "Acme Oy"}}
    assert fields_of(api.post(INVOICES, json=body)) == [
        "counterParty.counterPartyAddress.street",
        "counterParty.counterPartyAddress.zip",
        "counterParty.counterPartyAddress.city",
    ]


def test_partner_and_product_references_must_exist(api, invoice_body, row_body):
    body = invoice_body(partnerId=999, invoiceRows=[row_body(productId=888)])
    assert fields_of(api.post(INVOICES, json=body)) == ["partnerId", "invoiceRows[0].productId"]


def test_an_existing_partner_can_be_linked(api, invoice_body, partner_body):
    partner = api.post("/api/businesspartners", json=partner_body()).json()
    created = create(api, invoice_body(partnerId=partner["id"]))
    rows = api.get(INVOICES, params={"businessPartnerId": partner["id"]}).json()["results"]
    assert [r["id"] for r in rows] == [created["id"]]


def test_search_rows_are_basic_info(api, invoice_body):
    create(api, invoice_body())
    row = api.get(INVOICES).json()["results"][0]
    assert {
        "id",
        "partnerId",
        "type",
        "status",
        "invoiceNumber",
        "originalInvoiceNumber",
        "invoiceChannel",
        "date",
        "dueDate",
        "created",
        "version",
        "invoiceSumInfo",
        "counterParty",
    } == set(row)
    assert row["dueDate"] == "2025-02-14"
    assert "invoiceRows" not in row


def test_original_invoice_number_search_matches_substrings(api, invoice_body):
    create(api, invoice_body(originalInvoiceNumber="WO-1"))
    create(api, invoice_body(originalInvoiceNumber="WO-12"))
    rows = api.get(INVOICES, params={"originalInvoiceNumber": "wo-1"}).json()["results"]
    assert sorted(r["originalInvoiceNumber"] for r in rows) == ["WO-1", "WO-12"]


def test_search_by_status_and_paging(api, invoice_body):
    ids = [create(api, invoice_body(originalInvoiceNumber=f"E{i}"))["id"] for i in range(3)]
    assert api.put(f"{INVOICES}/{ids[0]}/approve").status_code == 200
    unfinished = api.get(INVOICES, params={"status": "UNFINISHED", "size": 1}).json()
    assert unfinished["meta"] == {"pageNumber": 0, "pageSize": 1, "resultCount": 1, "totalCount": 2}
    assert unfinished["results"][0]["id"] == ids[2]
    both = api.get(INVOICES, params={"status": "UNFINISHED,NOT_SENT"}).json()
    assert both["meta"]["totalCount"] == 3
    assert api.get(INVOICES, params={"status": "BOGUS"}).status_code == 400


def test_batch_get_of_invoices(api, invoice_body):
    a, b = create(api, invoice_body()), create(api, invoice_body())
    assert [i["id"] for i in api.get(f"{INVOICES}/{b['id']},{a['id']}").json()] == [a["id"], b["id"]]
    assert api.get(f"{INVOICES}/{a['id']}").json()["invoiceRows"][0]["product"] == "Widget"


def test_status_changes_follow_the_allowed_paths(api, invoice_body):
    invoice_id = create(api, invoice_body())["id"]
    path = f"{INVOICES}/{invoice_id}"
    assert api.put(f"{path}/send").status_code == 403
    assert api.put(f"{path}/approve").status_code == 200
    assert api.put(f"{path}/approve").status_code == 403
    assert api.put(f"{path}/send").status_code == 200
    assert api.put(f"{path}/invalidate").status_code == 200
    assert api.get(path).json()["status"] == "INVALIDATED"
    assert api.put(f"{path}/send").status_code == 403


def test_put_needs_the_current_version_and_an_unfinished_invoice(api, invoice_body):
    created = create(api, invoice_body())
    path = f"{INVOICES}/{created['id']}"
    assert fields_of(api.put(path, json=invoice_body(notes="x"))) == ["version"]
    updated = api.put(path, json=invoice_body(notes="x", version=created["version"]))
    assert updated.status_code == 200
    assert updated.json()["notes"] == "x"
    assert updated.json()["invoiceNumber"] == created["invoiceNumber"]
    assert fields_of(api.put(path, json=invoice_body(version=created["version"]))) == ["version"]
    api.put(f"{path}/approve")
    current = api.get(path).json()["version"]
    assert fields_of(api.put(path, json=invoice_body(version=current))) == ["status"]

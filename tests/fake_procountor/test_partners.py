"""As an integration I find customers by business ID, create them, and notice accountants' edits."""

import pytest

PARTNERS = "/api/businesspartners"


def create(api, body):
    response = api.post(PARTNERS, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_answers_200_with_the_stored_partner(api, fake, partner_body):
    created = create(api, partner_body())
    assert created["id"] > 0
    assert created["name"] == "Acme Oy"
    assert created["address"]["city"] == "Helsinki"
    assert created["registryInfo"]["active"] is True
    assert created["version"].startswith("2025-01-31T12:00:00")
    assert fake.partners() == [created]


def test_search_rows_are_basic_info_with_paging_meta(api, partner_body):
    created = create(api, partner_body())
    body = api.get(PARTNERS).json()
    assert body["meta"] == {"pageNumber": 0, "pageSize": 50, "resultCount": 1, "totalCount": 1}
    row = body["results"][0]
    assert set(row) == {"id", "name", "billingAddress", "invoicingInfo", "registryInfo", "type", "version"}
    assert row["invoicingInfo"] == {"customerNumber": None, "identifier": "1234567-1", "identifierType": "FI"}
    assert row["id"] == created["id"]


def test_identifier_filter_is_a_request_header_not_a_query_parameter(api, partner_body):
    create(api, partner_body(name="Acme Oy"))
    wanted = create(
        api, partner_body(name="Beta Oy", invoicingInfo={"identifier": "7654321-2", "identifierType": "FI"})
    )
    by_header = api.get(PARTNERS, headers={"identifier": "7654321-2"}).json()
    assert [r["id"] for r in by_header["results"]] == [wanted["id"]]
    by_query = api.get(PARTNERS, params={"identifier": "7654321-2"}).json()
    assert by_query["meta"]["totalCount"] == 2


def test_name_header_matches_part_of_the_name(api, partner_body):
    create(api, partner_body(name="Acme Oy"))
    create(api, partner_body(name="Beta Ab"))
    rows = api.get(PARTNERS, headers={"name": "beta"}).json()["results"]
    assert [r["name"] for r in rows] == ["Beta Ab"]


def test_search_orders_by_id_descending_by_default(api, partner_body):
    ids = [create(api, partner_body(name=f"P{i}"))["id"] for i in range(3)]
    rows = api.get(PARTNERS).json()["results"]
    assert [r["id"] for r in rows] == sorted(ids, reverse=True)
    rows = api.get(PARTNERS, params={"orderById": "ASC"}).json()["results"]
    assert [r["id"] for r in rows] == sorted(ids)


def test_paging_reports_total_count_on_every_page(api, partner_body):
    ids = {create(api, partner_body(name=f"P{i}"))["id"] for i in range(5)}
    seen = []
    for page in range(3):
        body = api.get(PARTNERS, params={"page": page, "size": 2}).json()
        assert body["meta"]["totalCount"] == 5
        assert body["meta"]["pageNumber"] == page
        seen += [r["id"] for r in body["results"]]
    assert set(seen) == ids
    empty = api.get(PARTNERS, params={"page": 3, "size": 2}).json()
    assert empty["meta"]["resultCount"] == 0


def test_page_size_above_200_is_rejected(api):
    response = api.get(PARTNERS, params={"size": 201})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "size"


def test_inactive_partners_are_hidden_unless_asked_for(api, partner_body):
    create(api, partner_body(name="Old Oy", registryInfo={"active": False}))
    assert api.get(PARTNERS).json()["meta"]["totalCount"] == 0
    assert api.get(PARTNERS, params={"active": "false"}).json()["meta"]["totalCount"] == 1


def test_version_start_date_returns_only_partners_changed_since(api, clock, partner_body):
    create(api, partner_body(name="Early Oy"))
    clock.advance(minutes=40)
    late = create(api, partner_body(name="Late Oy"))
    rows = api.get(PARTNERS, params={"versionStartDate": "2025-01-31T12:30:00"}).json()["results"]
    assert [r["id"] for r in rows] == [late["id"]]


def test_a_malformed_version_start_date_is_400(api):
    assert api.get(PARTNERS, params={"versionStartDate": "yesterday"}).status_code == 400


def test_batch_get_returns_a_list_ordered_by_id_and_skips_unknown_ids(api, partner_body):
    a, b = create(api, partner_body(name="A Oy")), create(api, partner_body(name="B Oy"))
    listed = api.get(f"{PARTNERS}/{b['id']},999,{a['id']}").json()
    assert [p["id"] for p in listed] == [a["id"], b["id"]]
    single = api.get(f"{PARTNERS}/{a['id']}").json()
    assert single["name"] == "A Oy"
    one_found = api.get(f"{PARTNERS}/{a['id']},999").json()
    assert isinstance(one_found, list)


def test_batch_get_with_only_unknown_ids_is_404_and_more_than_200_is_400(api):
    assert api.get(f"{PARTNERS}/999,998").status_code == 404
    ids = ",".join(str(i) for i in range(1, 202))
    assert api.get(f"{PARTNERS}/{ids}").status_code == 400


def test_an_invalid_business_id_check_digit_is_error_brn_code(api, partner_body):
    response = api.post(PARTNERS, json=partner_body(invoicingInfo={"identifier": "1234567-2", "identifierType": "FI"}))
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"status": 400, "field": "invoicingInfo.identifier", "message": "ERROR_BRN_CODE"}]
    }


def test_a_business_id_whose_remainder_is_one_is_never_valid(api, partner_body):
    from spotilla_procountor.adapters.procountor_fake.validation import valid_y_tunnus

    assert _remainder("0000030") == 1
    assert not any(valid_y_tunnus(f"0000030-{d}") for d in range(10))
    assert valid_y_tunnus("0000000-0")


def _remainder(digits: str) -> int:
    return sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11


def test_every_violation_is_reported_at_once(api, partner_body):
    body = partner_body(name="x" * 81, type="PERSON", paymentInfo={"paymentMethod": "BITCOIN"})
    body["address"] = {**body["address"], "zip": "1" * 21, "country": "ATLANTIS"}
    errors = api.post(PARTNERS, json=body).json()["errors"]
    assert {e["field"] for e in errors} == {
        "name",
        "type",
        "paymentInfo.paymentMethod",
        "address.zip",
        "address.country",
    }
    assert all(e["status"] == 400 and e["message"] for e in errors)


def test_payment_info_is_required(api, partner_body):
    body = partner_body()
    del body["paymentInfo"]
    errors = api.post(PARTNERS, json=body).json()["errors"]
    assert [e["field"] for e in errors] == ["paymentInfo"]


def test_text_outside_windows_1252_is_rejected_naming_the_field(api, partner_body):
    body = partner_body()
    body["address"] = {**body["address"], "street": "Katu 1 \u2603"}
    response = api.post(PARTNERS, json=body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["address.street"]
    assert api.post(PARTNERS, json=partner_body(name="Åke Öster €")).status_code == 200


def test_patch_with_the_current_version_updates_and_bumps_the_version(api, partner_body):
    created = create(api, partner_body())
    response = api.patch(
        f"{PARTNERS}/{created['id']}",
        params={"version": created["version"]},
        json={"name": "Acme Group Oy", "address": {"city": "Espoo"}},
    )
    assert response.status_code == 200
    patched = response.json()
    assert patched["name"] == "Acme Group Oy"
    assert patched["address"]["street"] == "Katu 1"
    assert patched["address"]["city"] == "Espoo"
    assert patched["version"] > created["version"]


def test_patch_with_a_stale_or_missing_version_is_400(api, partner_body):
    created = create(api, partner_body())
    path = f"{PARTNERS}/{created['id']}"
    assert api.patch(path, json={"name": "New", "version": created["version"]}).status_code == 200
    stale = api.patch(path, json={"name": "Newer", "version": created["version"]})
    assert stale.status_code == 400
    assert stale.json()["errors"][0]["field"] == "version"
    assert api.patch(path, json={"name": "Newer"}).status_code == 400
    assert api.get(path).json()["name"] == "New"


def test_put_replaces_all_details(api, partner_body):
    created = create(api, partner_body())
    replaced = api.put(f"{PARTNERS}/{created['id']}", json=partner_body(name="Other Oy", invoicingInfo={}))
    assert replaced.status_code == 200
    assert replaced.json()["invoicingInfo"] == {}
    assert replaced.json()["id"] == created["id"]


def test_unknown_partner_is_404(api, partner_body):
    assert api.get(f"{PARTNERS}/424242").status_code == 404
    assert api.put(f"{PARTNERS}/424242", json=partner_body()).status_code == 404


def test_an_accountant_edit_bumps_the_version_so_a_client_patch_goes_stale(api, fake, partner_body):
    created = create(api, partner_body())
    edited = fake.edit_partner(created["id"], {"name": "Renamed by accountant"})
    assert edited["version"] > created["version"]
    stale = api.patch(f"{PARTNERS}/{created['id']}", json={"name": "X", "version": created["version"]})
    assert stale.status_code == 400
    assert fake.partners()[0]["name"] == "Renamed by accountant"


def test_versions_increase_strictly_within_one_clock_tick(api, partner_body):
    versions = [create(api, partner_body(name=f"P{i}"))["version"] for i in range(3)]
    assert versions == sorted(set(versions))


@pytest.mark.parametrize("partner_type", ["CUSTOMER", "SUPPLIER"])
def test_customers_and_suppliers_can_be_created(api, partner_body, partner_type):
    assert create(api, partner_body(type=partner_type))["type"] == partner_type

"""As an integration I keep Spotilla's products in Procountor's product register."""

PRODUCTS = "/api/products"


def create(api, body):
    response = api.post(PRODUCTS, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_answers_200_with_the_stored_product(api, fake, product_body):
    created = create(api, product_body())
    assert created["id"] > 0
    assert created["version"]
    assert created["price"] == 10.0
    assert created["vat"] == 25.5
    stored = fake.products()[0]
    assert stored["id"] == created["id"]
    assert str(stored["price"]) == "10.0"


def test_search_by_code_and_name_substring(api, product_body):
    create(api, product_body(code="HOUR-WORK", name="Asennustyö"))
    create(api, product_body(code="KM", name="Kilometrikorvaus"))
    rows = api.get(PRODUCTS, params={"code": "work"}).json()["results"]
    assert [r["code"] for r in rows] == ["HOUR-WORK"]
    rows = api.get(PRODUCTS, params={"name": "korvaus"}).json()["results"]
    assert [r["code"] for r in rows] == ["KM"]


def test_without_a_type_filter_travel_products_are_left_out(api, product_body):
    create(api, product_body(type="SALES", code="S"))
    create(api, product_body(type="PURCHASE", code="P"))
    create(api, product_body(type="TRAVEL", code="T"))
    assert sorted(r["code"] for r in api.get(PRODUCTS).json()["results"]) == ["P", "S"]
    assert [r["code"] for r in api.get(PRODUCTS, params={"type": "TRAVEL"}).json()["results"]] == ["T"]


def test_keyset_paging_with_previous_id_visits_every_product_once(api, product_body):
    ids = [create(api, product_body(code=f"C{i}"))["id"] for i in range(5)]
    seen, previous = [], 0
    while True:
        body = api.get(PRODUCTS, params={"size": 2, "previousId": previous}).json()
        assert body["meta"]["totalCount"] == 5
        if not body["results"]:
            break
        seen += [r["id"] for r in body["results"]]
        previous = body["results"][-1]["id"]
    assert seen == ids


def test_page_parameter_is_ignored_for_products(api, product_body):
    ids = [create(api, product_body(code=f"C{i}"))["id"] for i in range(3)]
    rows = api.get(PRODUCTS, params={"page": 1, "size": 2}).json()["results"]
    assert [r["id"] for r in rows] == ids[:2]


def test_size_over_200_is_400(api):
    assert api.get(PRODUCTS, params={"size": 500}).status_code == 400


def test_version_start_date_filters_products(api, clock, product_body):
    create(api, product_body(code="OLD"))
    clock.advance(minutes=5)
    create(api, product_body(code="NEW"))
    rows = api.get(PRODUCTS, params={"versionStartDate": "2025-01-31T12:01:00"}).json()["results"]
    assert [r["code"] for r in rows] == ["NEW"]


def test_batch_get_of_products(api, product_body):
    a, b = create(api, product_body(code="A")), create(api, product_body(code="B"))
    assert [p["code"] for p in api.get(f"{PRODUCTS}/{b['id']},{a['id']}").json()] == ["A", "B"]
    assert api.get(f"{PRODUCTS}/{a['id']}").json()["code"] == "A"
    assert api.get(f"{PRODUCTS}/1,2").status_code == 404


def test_a_unit_outside_the_enum_is_rejected(api, product_body):
    response = api.post(PRODUCTS, json=product_body(unit="PCS"))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "unit"


def test_a_vat_percentage_not_in_use_is_rejected(api, product_body):
    response = api.post(PRODUCTS, json=product_body(vat=24.5))
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["vat"]


def test_required_fields_and_limits_are_all_reported(api):
    body = {"type": "SALES", "name": "n" * 101, "code": "c" * 41, "discount": 101}
    errors = api.post(PRODUCTS, json=body).json()["errors"]
    assert {e["field"] for e in errors} == {"name", "code", "price", "discount", "currency", "active"}


def test_price_given_as_a_string_is_rejected(api, product_body):
    response = api.post(PRODUCTS, json=product_body(price="10.00"))
    assert [e["field"] for e in response.json()["errors"]] == ["price"]


def test_update_and_delete(api, fake, product_body):
    created = create(api, product_body())
    updated = api.put(f"{PRODUCTS}/{created['id']}", json=product_body(price=12.5))
    assert updated.status_code == 200
    assert updated.json()["version"] > created["version"]
    assert api.delete(f"{PRODUCTS}/{created['id']}").status_code == 204
    assert fake.products() == []


def test_default_vats_list_the_company_percentages_and_statuses(api):
    body = api.get("/api/vats/default").json()
    finland = body["vatInformation"][0]
    assert finland["country"] == "FINLAND"
    assert [p["vatPercent"] for p in finland["percentages"]] == [25.5, 24, 14, 13.5, 10, 0]
    assert {"vatStatus", "description", "sales", "purchase"} <= set(body["vatStatuses"][0])

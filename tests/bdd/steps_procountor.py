"""Steps about the Procountor company: what the accountant does there, what goes wrong, and what it holds."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from pytest_bdd import given, parsers, then, when

from spotilla_procountor.adapters.procountor_fake import FaultPlan

from .steps_run import Run
from .steps_spotilla import table_rows
from .world import World

# What the accountant calls a detail → the change in Procountor's partner card.
PARTNER_DETAILS = {
    "billing street": lambda v: {"billingAddress": {"street": v}},
    "billing postal code": lambda v: {"billingAddress": {"zip": v}},
    "billing city": lambda v: {"billingAddress": {"city": v}},
    "payment term": lambda v: {"paymentInfo": {"paymentTermDays": v}},
    "e-invoice address": lambda v: {"invoicingInfo": {"einvoiceAddress": v}},
    "e-invoice operator": lambda v: {"invoicingInfo": {"einvoiceOperator": v}},
    "billing e-mail": lambda v: {"invoicingInfo": {"email": v}},
    "name": lambda v: {"name": v},
}
CREATE_ROUTES = {"invoice": "POST /invoices", "customer": "POST /businesspartners", "product": "POST /products"}


def lost_answer(route: str, how: str) -> FaultPlan:
    """Procountor does the work and stores it, but the answer never arrives as a success."""
    if how == "not answer in time":
        return FaultPlan(timeout_rate={route: 1.0})
    mode = {"answer with an error": "500", "drop the connection before answering": "drop"}[how]
    return FaultPlan(commit_then_fail_rate={route: 1.0}, commit_then_fail_mode=mode)


def partner_id_of(world: World, name: str) -> int:
    found = world.partners_named(name) or world.partners_with_business_id(world.customer(name).business_id or "")
    assert len(found) == 1, f"Procountor has {len(found)} partners for {name!r}"
    return found[0]["id"]


# ---------------------------------------------------------------- what the accountant has in Procountor


@given(parsers.parse('Procountor already has a customer "{name}" with business ID "{business_id}"'))
def _existing_customer_partner(world: World, name: str, business_id: str) -> None:
    world.desk.add_partner(name, business_id)


@given(parsers.parse('Procountor already has a supplier "{name}" with business ID "{business_id}"'))
def _existing_supplier_partner(world: World, name: str, business_id: str) -> None:
    world.desk.add_partner(name, business_id, kind="SUPPLIER")


@given(
    parsers.parse(
        'Procountor\'s product register already has product "{code}" "{name}" at {price} per {unit} with VAT {vat} %'
    )
)
def _existing_product(world: World, code: str, name: str, price: str, unit: str, vat: str) -> None:
    world.desk.add_product(code, name, unit, Decimal(price), Decimal(vat))


@given(parsers.parse('the accountant changed the {detail} of "{name}" in Procountor to "{value}"'))
@when(parsers.parse('the accountant changes the {detail} of "{name}" in Procountor to "{value}"'))
def _accountant_edits(world: World, detail: str, name: str, value: str) -> None:
    world.desk.edit_partner(partner_id_of(world, name), PARTNER_DETAILS[detail](value))


@when(parsers.parse('the accountant changes the billing address of "{name}" in Procountor to:'))
def _accountant_edits_address(world: World, name: str, datatable: list[list[str]]) -> None:
    (row,) = table_rows(datatable)
    address = {"street": row["street"], "zip": row["postal code"], "city": row["city"]}
    world.desk.edit_partner(partner_id_of(world, name), {"billingAddress": address})


# ---------------------------------------------------------------- when Procountor misbehaves


@given(parsers.parse("Procountor will store the next {thing} but {what}"))
def _answer_lost(world: World, thing: str, what: str) -> None:
    world.procountor.set_faults(lost_answer(CREATE_ROUTES[thing], what))


@given("Procountor has lost all of the organization's data")
def _lost_data(world: World) -> None:
    world.procountor.reset()  # partners, products and invoices gone; the credentials still work


@given("Procountor is unreachable")
def _unreachable(world: World) -> None:
    world.procountor.set_faults(FaultPlan(error_rate={"*": 1.0}))


@given("the organization's API key has been revoked in Procountor")
def _key_revoked(world: World) -> None:
    world.procountor.credentials = replace(world.procountor.credentials, api_key="a-key-made-after-the-old-was-revoked")


@when("Procountor works normally again")
def _works_again(world: World) -> None:
    world.procountor.set_faults(FaultPlan())


# ---------------------------------------------------------------- the product register in Procountor


@then("Procountor's product register holds:")
def _product_register_holds(world: World, datatable: list[list[str]]) -> None:
    expected = [
        (r["code"], r["name"], r["unit"], Decimal(r["price"]), Decimal(r["VAT %"])) for r in table_rows(datatable)
    ]
    actual = [
        (p.get("code"), p["name"], p.get("unit"), Decimal(str(p["price"])), Decimal(str(p["vat"])))
        for p in world.procountor.products()
    ]
    assert actual == expected


@then(parsers.re(r'Procountor has (?P<count>\d+) products? with code "(?P<code>[^"]*)"'), converters={"count": int})
def _products_with_code(world: World, count: int, code: str) -> None:
    assert len(world.products_with_code(code)) == count


@then(parsers.parse('Procountor has no product with code "{code}"'))
def _no_product_with_code(world: World, code: str) -> None:
    assert world.products_with_code(code) == []


# ---------------------------------------------------------------- partners in Procountor


@then(parsers.parse('Procountor has one customer "{name}" with business ID "{business_id}"'))
def _one_customer_partner(world: World, name: str, business_id: str) -> None:
    found = world.partners_with_business_id(business_id)
    assert [(p["name"], p["type"]) for p in found] == [(name, "CUSTOMER")]


@then(parsers.re(r'Procountor has (?P<count>\d+) partners? with business ID "(?P<business_id>[^"]*)"'))
def _partners_with_business_id(world: World, count: str, business_id: str) -> None:
    assert len(world.partners_with_business_id(business_id)) == int(count)


@then("Procountor has no partners")
def _no_partners(world: World) -> None:
    assert world.procountor.partners() == []


@then(parsers.parse('in Procountor "{name}" has payment term {days:d} days and e-mail "{email}"'))
def _partner_terms(world: World, name: str, days: int, email: str) -> None:
    (partner,) = world.partners_named(name)
    assert int(partner["paymentInfo"]["paymentTermDays"]) == days
    assert partner["invoicingInfo"]["email"] == email


# ---------------------------------------------------------------- invoices in Procountor


@then(parsers.re(r"Procountor has (?P<count>\d+) invoices?"), converters={"count": int})
def _invoice_count(world: World, count: int) -> None:
    assert len(world.procountor.invoices()) == count


@then("Procountor has no invoices")
def _no_invoices(world: World) -> None:
    assert world.procountor.invoices() == []


@then("Procountor has no approved or sent invoices")
def _nothing_approved(world: World) -> None:
    assert {i["status"] for i in world.procountor.invoices()} == {"UNFINISHED"}


@then(parsers.parse("an invoice is made for task {task_id:d}"))
def _invoice_made(world: World, task_id: int) -> None:
    world.invoice_of_task(task_id)


@then(parsers.parse("no invoice is made for task {task_id:d}"))
def _no_invoice(world: World, task_id: int) -> None:
    assert world.invoices_of_task(task_id) == []


@then(parsers.parse("the invoice of task {task_id:d} has the rows:"))
def _invoice_rows(world: World, task_id: int, datatable: list[list[str]]) -> None:
    expected = [
        (r["product"], r["code"], Decimal(r["quantity"]), r["unit"], Decimal(r["unit price"]), Decimal(r["VAT %"]))
        for r in table_rows(datatable)
    ]
    rows = world.invoice_of_task(task_id)["invoiceRows"]
    actual = [
        (
            r["product"],
            r.get("productCode"),
            Decimal(str(r["quantity"])),
            r["unit"],
            Decimal(str(r["unitPrice"])),
            Decimal(str(r["vatPercent"])),
        )
        for r in rows
    ]
    assert actual == expected


@then(
    parsers.parse("every row of the invoice of task {task_id:d} refers to its product in Procountor's product register")
)
def _rows_refer_to_products(world: World, task_id: int) -> None:
    codes = {p["id"]: p.get("code") for p in world.procountor.products()}
    rows = world.invoice_of_task(task_id)["invoiceRows"]
    assert rows, "the invoice has no rows"
    for row in rows:
        assert row.get("productId") in codes, f"row refers to no product in the register: {row}"
        assert codes[row["productId"]] == row.get("productCode")


@then(parsers.parse("the invoice of task {task_id:d} totals {net} without VAT, {vat} VAT, {total} in all"))
def _invoice_totals(world: World, task_id: int, net: str, vat: str, total: str) -> None:
    (sums,) = world.invoice_of_task(task_id)["invoiceSumInfo"]
    actual = (sums["excludingVatTotal"], sums["vatSumTotal"], sums["invoiceSumTotal"])
    assert tuple(Decimal(str(a)) for a in actual) == (Decimal(net), Decimal(vat), Decimal(total))


@then(parsers.parse("the invoice of task {task_id:d} is unfinished"))
def _unfinished(world: World, task_id: int) -> None:
    assert world.invoice_of_task(task_id)["status"] == "UNFINISHED"


@then(
    parsers.parse(
        'the invoice of task {task_id:d} is made out to the Procountor partner of "{name}" with business ID "{bid}"'
    )
)
def _made_out_to(world: World, task_id: int, name: str, bid: str) -> None:
    invoice = world.invoice_of_task(task_id)
    (partner,) = world.partners_with_business_id(bid)
    assert invoice["partnerId"] == partner["id"]
    assert invoice["counterParty"]["identifier"] == bid
    assert invoice["counterParty"]["counterPartyAddress"]["name"] == name


@then(
    parsers.parse("the invoice of task {task_id:d} is dated {invoice_date}, due {due_date}, delivered {delivery_date}")
)
def _invoice_dates(world: World, task_id: int, invoice_date: str, due_date: str, delivery_date: str) -> None:
    invoice = world.invoice_of_task(task_id)
    actual = (invoice["date"], invoice["paymentInfo"]["dueDate"], invoice["deliveryStartDate"])
    assert actual == (invoice_date, due_date, delivery_date)


@then(parsers.parse('the invoice of task {task_id:d} has order reference "{reference}"'))
def _order_reference(world: World, task_id: int, reference: str) -> None:
    assert world.invoice_of_task(task_id).get("orderReference") == reference


@then(parsers.parse("the invoice of task {task_id:d} has no order reference"))
def _no_order_reference(world: World, task_id: int) -> None:
    assert not world.invoice_of_task(task_id).get("orderReference")


@then("Procountor is exactly as it was before the run")
def _procountor_unchanged(world: World, run: Run) -> None:
    assert run.procountor_before == world.procountor_snapshot()

"""Steps that set up and change Spotilla: the organization's settings, registers and work orders, and the day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from pytest_bdd import given, parsers, when

from spotilla_procountor.domain.model import TaskStatus, TransferPolicy

from .world import World

HELSINKI = ZoneInfo("Europe/Helsinki")

POLICIES = {
    "all completed tasks": TransferPolicy.ALL_COMPLETED,
    "only tasks with an order number": TransferPolicy.WITH_ORDER_NUMBER,
}
# Column headings of the customer register as the office calls them → Spotilla's customer fields.
CUSTOMER_COLUMNS = {
    "name": "name",
    "business ID": "business_id",
    "payment term": "payment_term_days",
    "e-mail": "email",
    "billing e-mail": "billing_email",
    "e-invoice address": "einvoice_address",
    "e-invoice operator": "einvoice_operator",
    "phone": "phone",
    "street": "street_address",
    "postal code": "postal_code",
    "city": "city",
    "country": "country",
}


def table_rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    """A data table as one dict per row, keyed by the heading row."""
    heading, *rows = datatable
    return [dict(zip(heading, row, strict=True)) for row in rows]


def utc_moment(text: str) -> datetime:
    """'2025-03-09 23:30' read as UTC."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def used_products(datatable: list[list[str]]) -> list[tuple[str, Decimal]]:
    return [(row["product"], Decimal(row["quantity"])) for row in table_rows(datatable)]


# ---------------------------------------------------------------- the organization and the day


@given("the organization uses the Procountor integration")
def _integration_switched_on(world: World) -> None:
    assert world.backend.spotilla.settings(world.organization_id) is not None


@given(parsers.parse("the organization transfers {which}"))
def _transfer_policy(world: World, which: str) -> None:
    world.configure(policy=POLICIES[which])


@given(parsers.parse("today is {day} in Finland"))
def _today(frozen_time: FrozenDateTimeFactory, day: str) -> None:
    noon = datetime.combine(datetime.strptime(day, "%Y-%m-%d").date(), time(12), tzinfo=HELSINKI)
    frozen_time.move_to(noon.astimezone(UTC))


# ---------------------------------------------------------------- the product register


@given("Spotilla's product register has:")
@given("Spotilla's product register also has:")
def _product_register(world: World, datatable: list[list[str]]) -> None:
    for row in table_rows(datatable):
        world.add_product(
            row["code"] or None, row["name"], row["unit"], Decimal(row["unit price"]), Decimal(row["VAT %"])
        )


@given(
    parsers.parse(
        'Spotilla\'s product register also has product "{code}" "{name}" at {price} per {unit} with VAT {vat} %'
    )
)
def _one_product(world: World, code: str, name: str, price: str, unit: str, vat: str) -> None:
    world.add_product(code, name, unit, Decimal(price), Decimal(vat))


@given(parsers.parse('the price of product "{key}" is changed to {price} in Spotilla'))
@when(parsers.parse('the price of product "{key}" is changed to {price} in Spotilla'))
def _change_price(world: World, key: str, price: str) -> None:
    world.change_product(key, unit_price=Decimal(price))


@when(parsers.parse('the unit of product "{key}" is changed to "{unit}" in Spotilla'))
def _change_unit(world: World, key: str, unit: str) -> None:
    world.change_product(key, unit=unit)


@given(parsers.parse('product "{key}" has been removed from Spotilla\'s product register'))
def _remove_product(world: World, key: str) -> None:
    world.remove_product(key)


# ---------------------------------------------------------------- the customer register


@given("Spotilla's customer register has:")
@given("Spotilla's customer register also has:")
def _customer_register(world: World, datatable: list[list[str]]) -> None:
    for row in table_rows(datatable):
        values: dict[str, object] = {CUSTOMER_COLUMNS[k]: (v or None) for k, v in row.items()}
        if values.get("payment_term_days") is not None:
            values["payment_term_days"] = int(str(values["payment_term_days"]))
        world.add_customer(values.pop("name"), values.pop("business_id"), **values)  # type: ignore[arg-type]


@given(parsers.re(r'a customer "(?P<name>[^"]+)" whose business ID is entered as (?P<raw>"[^"]*"|nothing)'))
def _customer_with_raw_business_id(world: World, name: str, raw: str) -> None:
    world.add_customer(name, None if raw == "nothing" else raw[1:-1])


@when(parsers.parse('the business ID of customer "{ref}" is corrected to "{business_id}" in Spotilla'))
def _correct_business_id(world: World, ref: str, business_id: str) -> None:
    world.change_customer(ref, business_id=business_id)


@given(parsers.parse('the payment term of customer "{ref}" is changed to {days:d} days in Spotilla'))
def _change_payment_term(world: World, ref: str, days: int) -> None:
    world.change_customer(ref, payment_term_days=days)


@when(
    parsers.re(
        r'the site address of customer "(?P<ref>[^"]+)" is set to "(?P<street>[^,]+), (?P<postal>\d+) (?P<city>[^"]+)" '
        r"in Spotilla"
    )
)
def _set_site_address(world: World, ref: str, street: str, postal: str, city: str) -> None:
    world.change_customer(ref, street_address=street, postal_code=postal, city=city)


@given(parsers.parse('customer "{ref}" has been removed from Spotilla'))
def _remove_customer(world: World, ref: str) -> None:
    world.remove_customer(ref)


# ---------------------------------------------------------------- work orders


@given(parsers.parse('a completed task {task_id:d} for "{customer}" with:'))
def _completed_task(world: World, task_id: int, customer: str, datatable: list[list[str]]) -> None:
    world.add_task(task_id, customer, used=used_products(datatable))


@given(
    parsers.re(r'a completed task (?P<task_id>\d+) for the customer with business ID "(?P<business_id>[^"]*)" with:'),
    converters={"task_id": int},
)
def _completed_task_by_business_id(world: World, task_id: int, business_id: str, datatable: list[list[str]]) -> None:
    world.add_task(task_id, f"business ID {business_id}", used=used_products(datatable))


@given(parsers.parse("a completed task {task_id:d} without a customer, with:"))
def _completed_task_without_customer(world: World, task_id: int, datatable: list[list[str]]) -> None:
    world.add_task(task_id, None, used=used_products(datatable))


@given(parsers.parse('a completed task {task_id:d} for "{customer}" with no products'))
def _completed_task_without_products(world: World, task_id: int, customer: str) -> None:
    world.add_task(task_id, customer, used=[])


@given(parsers.parse("task {task_id:d} was completed at {moment} UTC"))
def _completed_at(world: World, task_id: int, moment: str) -> None:
    world.change_task(task_id, completed_at=utc_moment(moment))


@given(parsers.re(r"task (?P<task_id>\d+) is (?P<status>OPEN|IN_PROGRESS|CANCELLED)"), converters={"task_id": int})
@when(
    parsers.re(r"task (?P<task_id>\d+) is set back to (?P<status>OPEN|IN_PROGRESS|CANCELLED) in Spotilla"),
    converters={"task_id": int},
)
def _not_completed(world: World, task_id: int, status: str) -> None:
    world.change_task(task_id, status=TaskStatus(status), completed_at=None)


@given(parsers.re(r'task (?P<task_id>\d+) has order number "(?P<number>[^"]*)"'), converters={"task_id": int})
def _order_number(world: World, task_id: int, number: str) -> None:
    world.change_task(task_id, order_number=number)


@given(parsers.parse("task {task_id:d} has no order number"))
def _no_order_number(world: World, task_id: int) -> None:
    world.change_task(task_id, order_number=None)


@given(parsers.parse("task {task_id:d} has an order number of only spaces"))
def _blank_order_number(world: World, task_id: int) -> None:
    world.change_task(task_id, order_number="   ")


@given(parsers.parse("task {task_id:d} has an order number of {length:d} characters"))
def _long_order_number(world: World, task_id: int, length: int) -> None:
    world.change_task(task_id, order_number=("PO-" + "7" * length)[:length])


@when(parsers.parse('task {task_id:d} gets order number "{number}" in Spotilla'))
def _order_number_added(world: World, task_id: int, number: str) -> None:
    world.change_task(task_id, order_number=number)


@when(parsers.parse('the quantity of "{key}" on task {task_id:d} is changed to {quantity} in Spotilla'))
def _change_quantity(world: World, key: str, task_id: int, quantity: str) -> None:
    changed = world.names.products[key]
    used = [(k, Decimal(quantity) if world.names.products[k] == changed else q) for k, q in world.used_on(task_id)]
    world.change_task(task_id, used=used)


# ---------------------------------------------------------------- values that cannot be read or make no sense


@given(parsers.parse('the quantity of "{key}" on task {task_id:d} is "{raw}", which is not a number'))
def _quantity_not_a_number(world: World, key: str, task_id: int, raw: str) -> None:
    world.spoil_quantity(task_id, key, raw)


@given(parsers.parse('the unit price of product "{key}" is "{raw}", which is not a number'))
def _price_not_a_number(world: World, key: str, raw: str) -> None:
    world.spoil_price(key, raw)


@given(parsers.parse("the completion time of task {task_id:d} is missing"))
def _completion_time_missing(world: World, task_id: int) -> None:
    world.change_task(task_id, completed_at=None)


@given(parsers.parse('the completion time of task {task_id:d} is written as "{raw}"'))
def _completion_time_unreadable(world: World, task_id: int, raw: str) -> None:
    world.spoil_completion_time(task_id, raw)


@given(parsers.re(r"task (?P<task_id>\d+) was finished (?P<count>\d+) (?P<unit>days|minutes) from now"))
def _finished_in_the_future(world: World, task_id: str, count: str, unit: str) -> None:
    world.change_task(int(task_id), completed_at=datetime.now(UTC) + timedelta(**{unit: int(count)}))


@given(parsers.parse('the payment term of customer "{ref}" is written as "{raw}"'))
def _payment_term_unreadable(world: World, ref: str, raw: str) -> None:
    world.spoil_payment_term(ref, raw)


@given(parsers.parse('another organization has a customer "{name}" with business ID "{business_id}"'))
def _foreign_customer(world: World, name: str, business_id: str) -> None:
    world.add_foreign_customer(name, business_id)


@given(parsers.parse('another organization has a product "{code}" "{name}" at {price} per {unit} with VAT {vat} %'))
def _foreign_product(world: World, code: str, name: str, price: str, unit: str, vat: str) -> None:
    world.add_foreign_product(code, name, unit, Decimal(price), Decimal(vat))


CONTROL_CHARACTERS = {"a line break": "\n", "a tab": "\t", "a stray control character": "\x1b"}


@given(
    parsers.re(
        r'Spotilla\'s customer register also has a customer "(?P<name>[^"]+)" '
        r'with business ID "(?P<business_id>[^"]+)" whose name was typed with (?P<what>.+)'
    )
)
def _customer_with_control_characters(world: World, name: str, business_id: str, what: str) -> None:
    kinds = [k.strip() for k in what.replace(" and ", ", ").split(",")]
    unknown = [k for k in kinds if k not in CONTROL_CHARACTERS]
    assert not unknown, f"unknown characters {unknown}; known: {sorted(CONTROL_CHARACTERS)}"
    first, _, rest = name.partition(" ")
    typed = first + "".join(CONTROL_CHARACTERS[k] for k in kinds) + rest
    world.add_customer(typed, business_id)
    world.names.customers[name] = world.names.customers[typed]


@given(parsers.parse('Spotilla\'s product register also has product "{code}" with a name of {length:d} characters'))
def _product_with_a_long_name(world: World, code: str, length: int) -> None:
    world.add_product(code, ("Pitkä nimi " * length)[:length], "h", Decimal("10.00"), Decimal("25.5"))

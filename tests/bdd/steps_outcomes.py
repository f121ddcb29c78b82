"""Steps on what a run leaves behind: why items are held back, Spotilla's customers, the integration's memory."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_bdd import given, parsers, then

from spotilla_procountor.domain.model import Customer
from spotilla_procountor.domain.reasons import Reason
from spotilla_procountor.domain.state import EntityKind, Event, Outcome, RecordState

from .steps_run import Run, codes_of
from .world import World

CUSTOMER_DETAILS = {
    "billing street": "billing_street",
    "billing postal code": "billing_postal_code",
    "billing city": "billing_city",
    "payment term": "payment_term_days",
    "e-invoice address": "einvoice_address",
    "e-invoice operator": "einvoice_operator",
    "billing e-mail": "billing_email",
    "name": "name",
}


@dataclass(frozen=True)
class Said:
    """A reason as the integration gives it: the stable code and the sentence."""

    code: str
    sentence: str


def said_in_record(reasons: tuple[Reason, ...]) -> list[Said]:
    return [Said(r.code, r.message) for r in reasons]


def events_about(world: World, flow: str, spotilla_id: int) -> list[Event]:
    return [e for r in world.reports for e in r.events if e.flow == flow and e.spotilla_id == spotilla_id]


def held_back_event(world: World, flow: str, spotilla_id: int, code: str) -> Said:
    found = [e for e in events_about(world, flow, spotilla_id) if e.outcome == Outcome.HELD_BACK]
    assert found, f"no run reported {flow} item {spotilla_id} as held back"
    assert code in codes_of(found[-1]), found[-1]
    return Said(code, found[-1].message or "")


# ---------------------------------------------------------------- why items are held back


@then(parsers.parse("task {task_id:d} is held back because {code}"), target_fixture="reasons")
def _task_held_back(world: World, task_id: int, code: str) -> list[Said]:
    record = world.transfer(task_id)
    assert record is not None and record.state == RecordState.HELD_BACK, record
    said = said_in_record(record.reasons)
    assert code in [s.code for s in said], said
    return [s for s in said if s.code == code]


@then(parsers.parse("task {task_id:d} is held back with the reasons:"), target_fixture="reasons")
def _task_held_back_for_all(world: World, task_id: int, datatable: list[list[str]]) -> list[Said]:
    record = world.transfer(task_id)
    assert record is not None and record.state == RecordState.HELD_BACK, record
    said = said_in_record(record.reasons)
    assert sorted(s.code for s in said) == sorted(row[0] for row in datatable[1:])
    (event,) = [e for e in events_about(world, "invoices", task_id) if e.outcome == Outcome.HELD_BACK]
    assert sorted(codes_of(event)) == sorted(s.code for s in said)
    return said


@given(parsers.parse("task {task_id:d} failed because {code}"), target_fixture="reasons")
@then(parsers.parse("task {task_id:d} failed because {code}"), target_fixture="reasons")
def _task_failed(world: World, task_id: int, code: str) -> list[Said]:
    record = world.transfer(task_id)
    assert record is not None and record.state == RecordState.FAILED, record
    said = said_in_record(record.reasons)
    assert [s.code for s in said] == [code]
    return said


@then(parsers.re(r"task (?P<task_id>\d+) was tried (?P<times>\d+) times?"))
def _attempts(world: World, task_id: str, times: str) -> None:
    record = world.transfer(int(task_id))
    assert record is not None and record.attempts == int(times)


@then(parsers.parse("task {task_id:d} is not yet marked as transferred"))
def _not_marked(world: World, task_id: int) -> None:
    record = world.transfer(task_id)
    assert record is None or record.state != RecordState.LINKED


@then(parsers.parse("task {task_id:d} waits to be looked up because {code}"))
def _in_doubt(world: World, task_id: int, code: str) -> None:
    record = world.transfer(task_id)
    assert record is not None and record.state in (RecordState.PENDING, RecordState.SENT), record
    assert [s.code for s in said_in_record(record.reasons)] == [code]


@then(parsers.parse("task {task_id:d} is marked as transferred as that invoice"))
def _marked(world: World, task_id: int) -> None:
    record = world.transfer(task_id)
    assert record is not None and record.state == RecordState.LINKED
    assert record.procountor_id == world.invoice_of_task(task_id)["id"]


@then(parsers.parse('product "{key}" is held back because {code}'), target_fixture="reasons")
def _product_held_back(world: World, key: str, code: str) -> list[Said]:
    product_id = world.product(key).id
    link = world.link(EntityKind.PRODUCT, product_id)
    assert link is not None and link.state == RecordState.HELD_BACK, link
    return [held_back_event(world, "products", product_id, code)]


@then(parsers.parse('customer "{ref}" is held back because {code}'), target_fixture="reasons")
@then(
    parsers.re(r'the customer with business ID "(?P<ref>[^"]*)" is held back because (?P<code>\w+)'),
    target_fixture="reasons",
)
def _customer_held_back(world: World, ref: str, code: str) -> list[Said]:
    customer_id = world.customer_id(ref if ref in world.names.customers else f"business ID {ref}")
    link = world.link(EntityKind.CUSTOMER, customer_id)
    assert link is not None and link.state == RecordState.HELD_BACK, link
    return [held_back_event(world, "customers_out", customer_id, code)]


@then(parsers.parse('the reason says "{text}"'))
def _reason_says(reasons: list[Said], text: str) -> None:
    assert any(text in s.sentence for s in reasons), reasons


@then("every reason comes with a sentence saying what to do")
def _every_reason_has_sentence(reasons: list[Said]) -> None:
    for said in reasons:
        assert said.sentence.strip().endswith("."), said
        assert len(said.sentence.split()) >= 5, said


# ---------------------------------------------------------------- Spotilla's customers


@then(parsers.parse('Spotilla has a customer "{name}" with business ID "{business_id}"'))
def _spotilla_has_customer(world: World, name: str, business_id: str) -> None:
    assert world.customer(name).business_id == business_id


@then(parsers.parse('Spotilla has no customer "{name}"'))
def _spotilla_lacks_customer(world: World, name: str) -> None:
    assert [c for c in world.customers() if c.name == name] == []


@then(parsers.re(r'Spotilla has (?P<count>\d+) customers? with business ID "(?P<business_id>[^"]*)"'))
def _spotilla_customers_with_business_id(world: World, count: str, business_id: str) -> None:
    assert len(world.customers_with_business_id(business_id)) == int(count)


@then(
    parsers.re(
        r'Spotilla\'s customer (?P<ref>"[^"]+"|with business ID "[^"]+") has the billing address "(?P<address>[^"]+)"'
    )
)
def _billing_address(world: World, ref: str, address: str) -> None:
    customer = _customer_ref(world, ref)
    assert f"{customer.billing_street}, {customer.billing_postal_code} {customer.billing_city}" == address


@then(parsers.parse('Spotilla\'s customer with business ID "{business_id}" has the {detail} "{value}"'))
def _customer_detail(world: World, business_id: str, detail: str, value: str) -> None:
    (customer,) = world.customers_with_business_id(business_id)
    assert str(getattr(customer, CUSTOMER_DETAILS[detail])) == value


@then(parsers.parse('Spotilla\'s customer "{name}" still has the site address "{address}"'))
def _site_address(world: World, name: str, address: str) -> None:
    customer = world.customer(name)
    assert f"{customer.street_address}, {customer.postal_code} {customer.city}" == address


@then(parsers.parse('Spotilla\'s customer "{name}" still has the phone number "{phone}"'))
def _phone(world: World, name: str, phone: str) -> None:
    assert world.customer(name).phone == phone


@then(parsers.parse('Spotilla\'s customer with business ID "{business_id}" is linked to that partner'))
def _linked_to_partner(world: World, business_id: str) -> None:
    (customer,) = world.customers_with_business_id(business_id)
    (partner,) = world.partners_with_business_id(business_id)
    link = world.link(EntityKind.CUSTOMER, customer.id)
    assert link is not None and (link.state, link.procountor_id) == (RecordState.LINKED, partner["id"])


@then("Spotilla's customers are exactly as they were before this run")
def _customers_unchanged(world: World, run: Run) -> None:
    assert world.customers() == run.spotilla_before


@then("the integration remembers nothing of the run")
def _remembers_nothing(world: World) -> None:
    state, org = world.backend.state, world.organization_id
    assert all(state.records(org, kind) == {} for kind in EntityKind)
    assert state.partner_mirror(org) == {}
    assert state.partner_watermark(org) is None
    assert state.runs(org) == []


def _customer_ref(world: World, ref: str) -> Customer:
    if ref.startswith('"'):
        return world.customer(ref.strip('"'))
    (customer,) = world.customers_with_business_id(ref.split('"')[1])
    return customer


@then(parsers.parse("no reason given for task {task_id:d} is longer than {limit:d} characters"))
def _reasons_are_short(world: World, task_id: int, limit: int) -> None:
    record = world.transfer(task_id)
    assert record is not None and record.reasons, record
    assert all(len(r.message) <= limit for r in record.reasons), [len(r.message) for r in record.reasons]

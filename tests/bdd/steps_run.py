"""Steps that run the integration (normally, as a dry run, or stopped midway) and read its run report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from freezegun.api import FrozenDateTimeFactory
from pytest_bdd import given, parsers, then, when

from spotilla_procountor.domain.keys import invoice_key
from spotilla_procountor.domain.model import Customer
from spotilla_procountor.domain.state import EntityKind, Event, Outcome, RunFailure, RunStatus
from spotilla_procountor.domain.sync import SyncReport

from .procountor_side import IntegrationStopped, StopsAroundInvoice
from .world import World

OUTCOMES = {
    "would be created": Outcome.WOULD_CREATE,
    "created": Outcome.CREATED,
    "held back": Outcome.HELD_BACK,
    "failed": Outcome.FAILED,
}


@dataclass(frozen=True)
class Run:
    """One run of the integration and what the two systems looked like just before it."""

    report: SyncReport | None
    spotilla_before: list[Customer]
    procountor_before: dict[str, list[dict]]


def _run(world: World, **kw: object) -> Run:
    before = (world.customers(), world.procountor_snapshot())
    return Run(world.run(**kw), *before)  # type: ignore[arg-type]


def codes_of(event: Event) -> list[str]:
    return (event.reason_code or "").split(",") if event.reason_code else []


# ---------------------------------------------------------------- running


@given("the integration has run", target_fixture="run")
@when("the integration runs", target_fixture="run")
@when("the integration runs again", target_fixture="run")
def _runs(world: World) -> Run:
    return _run(world)


@given("the integration has run as a dry run", target_fixture="run")
@when("the integration runs as a dry run", target_fixture="run")
def _dry_run(world: World) -> Run:
    return _run(world, dry_run=True)


@when(parsers.parse("the integration runs at {moment} UTC"), target_fixture="run")
def _runs_at(world: World, frozen_time: FrozenDateTimeFactory, moment: str) -> Run:
    frozen_time.move_to(datetime.strptime(moment, "%Y-%m-%d %H:%M").replace(tzinfo=UTC))
    return _run(world)


def _stop_around_invoice(world: World, task_id: int, *, after_sending: bool) -> None:
    key = invoice_key(world.organization_id, task_id)
    try:
        world.run(procountor=StopsAroundInvoice(world.gateway, key, after_sending=after_sending))
    except IntegrationStopped:
        return
    raise AssertionError("the integration never reached the invoice")


@given(parsers.parse("the integration stops just before sending the invoice of task {task_id:d}"))
def _stops_before_sending(world: World, task_id: int) -> None:
    _stop_around_invoice(world, task_id, after_sending=False)


@given(parsers.parse("the integration stops right after Procountor stored the invoice of task {task_id:d}"))
def _stops_after_sending(world: World, task_id: int) -> None:
    _stop_around_invoice(world, task_id, after_sending=True)


# ---------------------------------------------------------------- the run report


@then("the run succeeds")
def _run_succeeds(run: Run) -> None:
    assert run.report is not None and run.report.status == RunStatus.SUCCEEDED, run.report


@then("the run ends with some items failed")
def _run_partial(run: Run) -> None:
    """Failed items are not a success: the admin is told the run was partial, and the rest was done."""
    assert run.report is not None and run.report.status == RunStatus.PARTIAL, run.report
    assert run.report.error and "item(s) failed" in run.report.error


@then("the run fails because Procountor refused the organization's credentials")
def _run_refused(run: Run) -> None:
    assert run.report is not None and run.report.status == RunStatus.FAILED, run.report
    assert run.report.failure == RunFailure.CREDENTIALS_REFUSED, run.report


@then("the run fails because Procountor does not answer")
def _run_unavailable(run: Run) -> None:
    assert run.report is not None and run.report.status == RunStatus.FAILED, run.report
    assert run.report.failure == RunFailure.UNAVAILABLE, run.report


@then("the reason says to create a new API key in Procountor")
def _says_new_key(run: Run) -> None:
    assert run.report is not None and "create a new API key in Procountor" in (run.report.error or ""), run.report


@then(parsers.re(r"the run report says (?P<count>\d+) (?P<what>products|invoice|invoices) (?:was|were) created"))
def _created_count(run: Run, count: str, what: str) -> None:
    flow = "products" if what == "products" else "invoices"
    assert run.report is not None
    assert run.report.counts.get(f"{flow}.{Outcome.CREATED}", 0) == int(count), run.report.counts


@then(parsers.re(r"the run report says (?P<count>\d+) customers? (?:was|were) (?P<what>created|updated) in Spotilla"))
def _spotilla_customer_count(run: Run, count: str, what: str) -> None:
    outcome = Outcome.CREATED if what == "created" else Outcome.UPDATED
    assert run.report is not None
    assert run.report.counts.get(f"partners_in.{outcome}", 0) == int(count), run.report.counts


@then("the run report says nothing was created")
def _nothing_created(run: Run) -> None:
    assert run.report is not None
    created = [e for e in run.report.events if e.outcome in (Outcome.CREATED, Outcome.ADOPTED, Outcome.LINKED)]
    assert created == []


@then("the run report says nothing was updated")
def _nothing_updated(run: Run) -> None:
    assert run.report is not None
    assert [e for e in run.report.events if e.outcome == Outcome.UPDATED] == []


@then(parsers.parse('the run report says product "{key}" was linked to the product Procountor already had'))
def _product_linked(world: World, run: Run, key: str) -> None:
    (existing,) = world.products_with_code(world.product(key).code or "")
    assert run.report is not None
    linked = [e for e in run.report.events if e.flow == "products" and e.outcome == Outcome.LINKED]
    assert [(e.spotilla_id, e.procountor_id) for e in linked] == [(world.product(key).id, existing["id"])]


@then(parsers.parse("the run report says task {task_id:d} was found in Procountor and adopted"))
def _adopted(run: Run, task_id: int) -> None:
    assert run.report is not None
    outcomes = [e.outcome for e in run.report.events if e.flow == "invoices" and e.spotilla_id == task_id]
    assert outcomes == [Outcome.ADOPTED]


@then(parsers.parse("the run report does not mention task {task_id:d}"))
def _not_mentioned(run: Run, task_id: int) -> None:
    assert run.report is not None
    assert [e for e in run.report.events if e.kind == EntityKind.TASK and e.spotilla_id == task_id] == []


@then("the run report lists:")
def _report_lists(world: World, run: Run, datatable: list[list[str]]) -> None:
    assert run.report is not None
    for what, outcome, reason in datatable[1:]:
        matching = [e for e in run.report.events if _is_about(world, e, what)]
        assert [e.outcome for e in matching] == [OUTCOMES[outcome]], (what, matching)
        if reason:
            assert reason in codes_of(matching[0]), (what, matching[0])


def _is_about(world: World, event: Event, what: str) -> bool:
    kind, _, rest = what.partition(" ")
    if kind == "product":
        return event.flow == "products" and event.spotilla_id == world.product(rest).id
    if what.endswith(", from Procountor"):
        (partner,) = world.partners_named(rest.removesuffix(", from Procountor"))
        return event.flow == "partners_in" and event.procountor_id == partner["id"]
    if kind == "customer":
        return event.flow == "customers_out" and event.spotilla_id == world.customer_id(rest)
    return event.flow == "invoices" and event.spotilla_id == int(what.rsplit(" ", 1)[1])

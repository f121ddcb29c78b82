"""Scenarios of features/tenant_settings.feature, and the steps only they use."""

from __future__ import annotations

from datetime import datetime

from pytest_bdd import given, parsers, scenarios, when

from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway
from spotilla_procountor.domain.state import EntityKind

from .procountor_side import BANK_ACCOUNT, BASE_URL, CREDENTIALS, SteppingTimer
from .steps_spotilla import HELSINKI
from .world import World

scenarios("tenant_settings.feature")


def _finnish_day(text: str) -> datetime:
    return datetime.strptime(text, "%d %B %Y")


def _configure(world: World, **changes: object) -> None:
    """Changes the organization's settings, and checks that a run reads them back as they were set."""
    world.configure(**changes)
    read = world.backend.spotilla.settings(world.organization_id)
    assert all(getattr(read, k) == v for k, v in changes.items()), read


@given("the organization has not given its bank account")
def _no_bank_account(world: World) -> None:
    _configure(world, has_bank_account=False)


@when("the organization gives its bank account")
def _bank_account_given(world: World) -> None:
    world.configure(has_bank_account=True)


@given(parsers.parse("the organization transfers tasks completed from {day}"))
def _start_day(world: World, day: str) -> None:
    _configure(world, tasks_completed_from=_finnish_day(day).date())


@given(parsers.re(r"task (?P<task_id>\d+) was finished at (?P<clock>\d\d:\d\d) on (?P<day>.+), Finnish time"))
def _finished_at(world: World, task_id: str, clock: str, day: str) -> None:
    hour, minute = (int(part) for part in clock.split(":"))
    finished = _finnish_day(day).replace(hour=hour, minute=minute, tzinfo=HELSINKI)
    world.change_task(int(task_id), completed_at=finished)


def _gateway(world: World, bank_account: str | None) -> HttpProcountorGateway:
    timer = SteppingTimer()
    transport = world.procountor.transport()
    return HttpProcountorGateway(
        base_url=BASE_URL,
        **CREDENTIALS,
        bank_account=bank_account,
        transport=transport,
        sleep=timer.sleep,
        monotonic=timer,
    )


@given("Procountor receives invoices without the organization's bank account")
def _invoices_without_bank_account(world: World) -> None:
    world.gateway = _gateway(world, None)  # as a tenant stored before bank accounts were checked


@given("the organization's bank account is corrected")
def _bank_account_corrected(world: World) -> None:
    world.gateway = _gateway(world, BANK_ACCOUNT)


@when(parsers.parse("someone asks for task {task_id:d} to be tried again"))
def _retry(world: World, task_id: int) -> None:
    world.backend.state.requeue(world.organization_id, EntityKind.TASK, [task_id])

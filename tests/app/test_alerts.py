"""Alert mails and the credential back-off, through the service as the container builds it.

Real HTTP to the fake Procountor on loopback, a real SMTP server (aiosmtpd), a real database (PostgreSQL where the
once-per-condition rule is checked); the service's clock is the one seam, moved by the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from alertworld import ADMIN, CREDENTIALS, NEW_API_KEY, OPERATOR, ORG, World, alert_world
from smtputil import CaughtMail
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.service import Credentials
from spotilla_procountor.domain.state import RunFailure, RunStatus

pytestmark = [pytest.mark.loopback]
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture(params=[POSTGRES])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with alert_world(request.param, tmp_path) as built:
        yield built


def _assert_no_secret_in(mails: list[CaughtMail], world: World) -> None:
    for mail in mails:
        text = mail.text()
        for secret in world.secrets():
            assert secret not in text, f"a secret is in the mail {mail.subject!r}"


def _refused_until_backed_off(world: World) -> None:
    assert world.sync().status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    world.restart_procountor(api_key=NEW_API_KEY)  # the organization revoked the key the integration has
    for _ in range(2):
        report = world.sync()
        assert (report.status, report.failure) == (RunStatus.FAILED, RunFailure.CREDENTIALS_REFUSED)
        world.clock.advance(timedelta(minutes=1))


def test_a_revoked_api_key_is_mailed_once_and_the_tenant_stops_knocking_until_the_interval_has_passed(
    world: World,
) -> None:
    _refused_until_backed_off(world)
    [mail] = world.sink.wait_for(1)
    asked = world.requests()

    for _ in range(3):
        report = world.sync()
        assert report.status == RunStatus.SKIPPED
        assert "backing off" in report.error and f"tenants enable {ORG}" in report.error
        world.clock.advance(timedelta(minutes=10))
    assert world.requests() == asked, "a backed-off tenant asked Procountor"
    assert "backing off" in (world.container.alerts().backoff_reason(world.container.tenants().config(ORG)) or "")

    world.clock.advance(timedelta(minutes=30))  # an hour since the last refusal: one try
    assert world.sync().failure == RunFailure.CREDENTIALS_REFUSED
    assert world.requests() > asked
    assert world.sync().status == RunStatus.SKIPPED  # and backed off again at once
    assert len(world.sink.mails) == 1, "the refusal was mailed again before a day had passed"

    assert sorted(mail.recipients) == sorted([ADMIN, OPERATOR])
    assert "organization 1 (Putkiliike Virtanen Oy)" in mail.subject and "refuses the credentials" in mail.subject
    assert "new API key" in mail.body and "spotilla-procountor tenants enable 1" in mail.body
    _assert_no_secret_in(world.sink.mails, world)


def test_while_backed_off_a_reminder_goes_out_once_a_day(world: World) -> None:
    _refused_until_backed_off(world)
    world.sink.wait_for(1)
    for _ in range(26):  # a day of hourly tries and skipped runs in between
        world.clock.advance(timedelta(minutes=59))
        world.sync()
        world.sync()
    mails = world.sink.wait_for(2)
    assert len(mails) == 2 and "(reminder)" in mails[1].subject
    _assert_no_secret_in(mails, world)


def test_new_credentials_end_the_back_off_at_once_and_a_notice_says_they_work_again(world: World) -> None:
    _refused_until_backed_off(world)
    assert world.sync().status == RunStatus.SKIPPED
    asked = world.requests()

    world.enable(Credentials(CREDENTIALS.client_id, CREDENTIALS.client_secret, NEW_API_KEY))
    report = world.sync()  # no time has passed: the changed credentials are tried at once

    assert report.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    assert world.requests() > asked
    first, notice = world.sink.wait_for(2)
    assert "refuses the credentials" in first.subject and "the credentials work again" in notice.subject
    assert sorted(notice.recipients) == sorted([ADMIN, OPERATOR])
    assert world.sync().status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    assert len(world.sink.mails) == 2
    _assert_no_secret_in(world.sink.mails, world)


def test_runs_that_fail_three_times_in_a_row_are_mailed_once_to_the_operators(world: World) -> None:
    other_key = world.new_container(secret_key=new_key())  # the operator changed SECRET_KEY: nothing decrypts
    for _ in range(5):
        assert world.sync(other_key).failure == RunFailure.CREDENTIALS_UNREADABLE
        world.clock.advance(timedelta(minutes=30))
    [mail] = world.sink.wait_for(1)
    assert mail.recipients == [OPERATOR]
    assert "3 runs failed in a row" in mail.subject and "cannot be decrypted" in mail.body
    assert "SECRET_KEY" in mail.body and "spotilla-procountor status --organization 1" in mail.body

    assert world.sync().status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)  # fixed: the streak ends
    for _ in range(3):
        world.clock.advance(timedelta(minutes=30))
        world.sync(other_key)
    assert len(world.sink.wait_for(2)) == 2  # a new streak, a new mail
    _assert_no_secret_in(world.sink.mails, world)


def test_items_procountor_refuses_are_mailed_to_the_admins_in_one_digest_a_day(world: World) -> None:
    first, second, *_ = world.completed_tasks()
    world.give_order_number(first, "T" * 71)
    world.give_order_number(second, "U" * 71)
    world.set_status(second, "IN_PROGRESS")
    assert world.sync().status == RunStatus.PARTIAL
    [digest] = world.sink.wait_for(1)
    assert digest.recipients == [ADMIN]
    assert f"- task {first}: Procountor refused it" in digest.body and f"--task {first}" in digest.body

    world.clock.advance(timedelta(hours=2))
    world.set_status(second, "COMPLETED")  # finished later, and refused too
    world.sync()
    world.clock.advance(timedelta(hours=20))
    world.sync()
    assert len(world.sink.mails) == 1, "a second digest within the day"

    world.clock.advance(timedelta(hours=3))
    world.sync()
    later = world.sink.wait_for(2)[1]
    assert f"task {second}:" in later.body and f"task {first}:" not in later.body
    world.clock.advance(timedelta(days=2))
    world.sync()
    assert len(world.sink.mails) == 2, "a digest without new items"
    _assert_no_secret_in(world.sink.mails, world)


def test_items_held_back_for_over_a_week_are_mailed_weekly(world: World) -> None:
    task = world.completed_tasks()[0]
    world.drop_business_id_of_customer_of(task)
    world.sync()
    world.clock.advance(timedelta(days=6))
    world.sync()
    assert world.sink.mails == []

    world.clock.advance(timedelta(days=1, minutes=1))
    world.sync()
    [weekly] = world.sink.wait_for(1)
    assert weekly.recipients == [ADMIN] and "(weekly)" in weekly.subject
    assert f"task {task} (since" in weekly.body and "business ID" in weekly.body
    world.clock.advance(timedelta(days=6, hours=23))
    world.sync()
    assert len(world.sink.mails) == 1
    world.clock.advance(timedelta(hours=1))
    world.sync()
    assert len(world.sink.wait_for(2)) == 2


@pytest.mark.parametrize("world", ["sqlite", POSTGRES], indirect=True)
def test_a_mail_server_that_is_down_breaks_no_run_and_a_later_run_sends_the_mail(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.give_order_number(world.completed_tasks()[0], "T" * 71)
    world.sink.stop()
    with caplog.at_level(logging.INFO, logger="spotilla_procountor"):
        report = world.sync()
    assert report.status == RunStatus.PARTIAL and report.run_id is not None
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "alert mail not sent; a later run tries again" in error.getMessage()

    world.sink.start()
    world.sync()
    [digest] = world.sink.wait_for(1)
    assert "refused by Procountor" in digest.subject
    world.sync()
    assert len(world.sink.mails) == 1


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_without_a_mail_server_each_alert_is_written_to_the_log_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    unmailed = world.new_container(smtp_host=None)
    world.give_order_number(world.completed_tasks()[0], "T" * 71)
    with caplog.at_level(logging.WARNING, logger="spotilla_procountor"):
        world.sync(unmailed)
        world.sync(unmailed)
    logged = [r.getMessage() for r in caplog.records if "alert not mailed" in r.getMessage()]
    assert len(logged) == 1 and "refused by Procountor" in logged[0] and "no SMTP_HOST is set" in logged[0]
    assert world.sink.mails == []


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_a_tenant_without_admin_addresses_has_its_mails_sent_to_the_operators(world: World) -> None:
    world.container.alert_store().set_admin_emails(ORG, [])
    world.give_order_number(world.completed_tasks()[0], "T" * 71)
    world.sync()
    [digest] = world.sink.wait_for(1)
    assert digest.recipients == [OPERATOR]


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_a_dry_run_neither_mails_nor_counts_towards_the_back_off(world: World) -> None:
    world.restart_procountor(api_key=NEW_API_KEY)
    for _ in range(3):
        assert world.container.sync_service().sync(ORG, dry_run=True).status == RunStatus.FAILED
    assert world.sink.mails == []
    assert world.sync().failure == RunFailure.CREDENTIALS_REFUSED  # not backed off: the dry runs did not count

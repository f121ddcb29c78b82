"""When an alert is mailed and when a tenant backs off: the rules on plain data, no database, no mail server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from spotilla_procountor.domain import alert_rules
from spotilla_procountor.domain.alerts import (
    AlertPolicy,
    AlertState,
    Audience,
    Condition,
    FailedStreak,
    Refusals,
    RunStreaks,
    TenantLabel,
)
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Record, RecordState, RunFailure, RunStatus
from spotilla_procountor.domain.sync import SyncReport

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
POLICY = AlertPolicy()
TENANT = TenantLabel(7, "Putkiliike Virtanen Oy")
CREDS = "fp-1"


def _report(status: RunStatus, failure: RunFailure | None = None, error: str | None = None) -> SyncReport:
    return SyncReport(7, status, error=error, failure=failure)


REFUSED = _report(RunStatus.FAILED, RunFailure.CREDENTIALS_REFUSED, "Procountor refused the tenant's credentials")


def _streaks(*reports: SyncReport, credentials: str = CREDS, start: datetime = NOW) -> RunStreaks:
    streaks = RunStreaks()
    for n, report in enumerate(reports):
        streaks = alert_rules.streaks_after(streaks, report, credentials, start + timedelta(minutes=n))
    return streaks


def _failed(spotilla_id: int, at: datetime, kind: EntityKind = EntityKind.TASK) -> Record:
    reason = Reason.of(ReasonCode.REJECTED_BY_PROCOUNTOR, detail="the order number is at most 70 characters")
    return Record(
        7, kind, spotilla_id, RecordState.FAILED, reasons=(reason,), fingerprint=f"d{spotilla_id}", updated_at=at
    )


def _held(spotilla_id: int, at: datetime, code: ReasonCode = ReasonCode.BUSINESS_ID_MISSING) -> Record:
    reason = (
        Reason.of(code)
        if code != ReasonCode.COMPLETED_BEFORE_START
        else Reason.of(code, completed_on="2025-03-01", start="2025-03-12")
    )
    return Record(7, EntityKind.TASK, spotilla_id, RecordState.HELD_BACK, reasons=(reason,), updated_at=at)


# -- refusals in a row and the back-off -------------------------------------------------------------------------


def test_refusals_of_the_same_credentials_add_up_and_a_run_that_did_its_work_ends_them() -> None:
    assert _streaks(REFUSED, REFUSED).refusals == Refusals(2, NOW + timedelta(minutes=1), CREDS)
    assert _streaks(REFUSED, REFUSED, _report(RunStatus.SUCCEEDED)).refusals is None
    assert _streaks(REFUSED, _report(RunStatus.PARTIAL)).refusals is None


def test_a_refusal_of_other_credentials_starts_counting_again() -> None:
    first = _streaks(REFUSED, REFUSED)
    again = alert_rules.streaks_after(first, REFUSED, "fp-2", NOW + timedelta(hours=1))
    assert again.refusals == Refusals(1, NOW + timedelta(hours=1), "fp-2")


def test_a_failure_for_another_cause_neither_adds_to_nor_ends_the_refusals() -> None:
    unavailable = _report(RunStatus.FAILED, RunFailure.UNAVAILABLE, "Procountor did not answer")
    streaks = _streaks(REFUSED, unavailable, REFUSED)
    assert streaks.refusals is not None and streaks.refusals.count == 2
    assert streaks.failed.count == 3 and streaks.failed.since == NOW


def test_the_tenant_backs_off_only_after_enough_refusals_of_the_credentials_it_still_has() -> None:
    once, twice = _streaks(REFUSED).refusals, _streaks(REFUSED, REFUSED).refusals
    assert alert_rules.backoff_until(once, CREDS, POLICY) is None
    assert alert_rules.backoff_until(twice, CREDS, POLICY) == NOW + timedelta(minutes=1) + POLICY.backoff
    assert alert_rules.backoff_until(twice, "fp-new", POLICY) is None  # credentials stored again: try at once
    assert alert_rules.backoff_until(None, CREDS, POLICY) is None


# -- credentials refused ------------------------------------------------------------------------------------------


def test_refused_credentials_are_mailed_once_they_make_the_tenant_back_off_then_once_a_day() -> None:
    once, twice = _streaks(REFUSED).refusals, _streaks(REFUSED, REFUSED).refusals
    assert alert_rules.credentials_refused(TENANT, once, AlertState(), NOW, POLICY) is None
    first = alert_rules.credentials_refused(TENANT, twice, AlertState(), NOW, POLICY)
    assert first is not None and first.audiences == {Audience.ADMINS, Audience.OPERATORS}
    sent = AlertState(first.fingerprint, NOW)
    assert alert_rules.credentials_refused(TENANT, twice, sent, NOW + timedelta(hours=23), POLICY) is None
    reminder = alert_rules.credentials_refused(TENANT, twice, sent, NOW + timedelta(days=1), POLICY)
    assert reminder is not None and "reminder" in reminder.subject and reminder.fingerprint == first.fingerprint


def test_other_refused_credentials_are_a_new_episode_mailed_at_once() -> None:
    first = alert_rules.credentials_refused(TENANT, _streaks(REFUSED, REFUSED).refusals, AlertState(), NOW, POLICY)
    assert first is not None
    other = _streaks(REFUSED, REFUSED, credentials="fp-2").refusals
    new = alert_rules.credentials_refused(TENANT, other, AlertState(first.fingerprint, NOW), NOW, POLICY)
    assert new is not None and "reminder" not in new.subject


def test_the_notice_that_credentials_work_again_follows_only_a_refusal_mail_and_only_once() -> None:
    refused = alert_rules.credentials_refused(TENANT, _streaks(REFUSED, REFUSED).refusals, AlertState(), NOW, POLICY)
    assert refused is not None
    assert alert_rules.credentials_working(TENANT, AlertState()) is None
    notice = alert_rules.credentials_working(TENANT, AlertState(refused.fingerprint, NOW))
    assert notice is not None and "work again" in notice.subject
    assert alert_rules.credentials_working(TENANT, AlertState(notice.fingerprint, NOW)) is None


def test_the_refusal_mail_says_what_happened_what_to_do_and_where() -> None:
    mail = alert_rules.credentials_refused(TENANT, _streaks(REFUSED, REFUSED).refusals, AlertState(), NOW, POLICY)
    assert mail is not None
    assert (
        mail.subject
        == "Spotilla–Procountor, organization 7 (Putkiliike Virtanen Oy): Procountor refuses the credentials"
    )
    assert "refused the integration's credentials for organization 7" in mail.body
    assert "2 times in a row" in mail.body and "2025-03-14 11:31 (Finnish time)" in mail.body
    assert "once every 60 minutes" in mail.body and "next at 2025-03-14 12:31" in mail.body
    assert "new API key" in mail.body and "`spotilla-procountor tenants enable 7`" in mail.body
    assert "`spotilla-procountor status --organization 7`" in mail.body


# -- runs failed in a row -----------------------------------------------------------------------------------------


def test_failed_runs_are_mailed_once_per_streak_when_it_reaches_the_threshold() -> None:
    down = _report(RunStatus.FAILED, RunFailure.UNAVAILABLE, "TemporarilyUnavailable: Procountor did not answer")
    two, three, four = _streaks(down, down).failed, _streaks(down, down, down).failed, _streaks(*[down] * 4).failed
    assert alert_rules.runs_failed(TENANT, two, down.failure, AlertState(), POLICY) is None
    mail = alert_rules.runs_failed(TENANT, three, down.failure, AlertState(), POLICY)
    assert mail is not None and mail.condition == Condition.RUNS_FAILED and mail.audiences == {Audience.OPERATORS}
    assert "3 runs failed in a row" in mail.subject and "Procountor did not answer" in mail.body
    assert alert_rules.runs_failed(TENANT, four, down.failure, AlertState(mail.fingerprint, NOW), POLICY) is None
    later = _streaks(*[down] * 3, start=NOW + timedelta(days=2)).failed  # the streak ended; a new one began
    assert alert_rules.runs_failed(TENANT, later, down.failure, AlertState(mail.fingerprint, NOW), POLICY) is not None


def test_runs_failed_for_refused_credentials_are_told_by_the_credentials_mail_alone() -> None:
    streak = _streaks(REFUSED, REFUSED, REFUSED).failed
    assert alert_rules.runs_failed(TENANT, streak, RunFailure.CREDENTIALS_REFUSED, AlertState(), POLICY) is None


def test_a_run_that_did_its_work_ends_the_failed_streak_and_an_interrupted_one_does_not() -> None:
    down = _report(RunStatus.FAILED, RunFailure.UNAVAILABLE)
    assert _streaks(down, down, _report(RunStatus.PARTIAL)).failed == FailedStreak()
    assert _streaks(down, _report(RunStatus.INTERRUPTED), down).failed.count == 2


# -- digests ------------------------------------------------------------------------------------------------------


def test_failed_items_are_mailed_in_one_digest_a_day_listing_only_those_new_since_the_last() -> None:
    old, new = _failed(1, NOW - timedelta(hours=3)), _failed(2, NOW + timedelta(hours=2))
    first = alert_rules.items_failed(TENANT, [old], AlertState(), NOW, POLICY)
    assert first is not None and "- task 1: Procountor refused it: the order number is at most 70" in first.body
    assert "--task 1" in first.body and first.audiences == {Audience.ADMINS}
    sent = AlertState(first.fingerprint, NOW)
    assert alert_rules.items_failed(TENANT, [old, new], sent, NOW + timedelta(hours=23), POLICY) is None
    second = alert_rules.items_failed(TENANT, [old, new], sent, NOW + timedelta(days=1), POLICY)
    assert second is not None and "task 2" in second.body and "task 1" not in second.body
    assert alert_rules.items_failed(TENANT, [old], sent, NOW + timedelta(days=2), POLICY) is None  # nothing new


def test_a_digest_that_is_not_due_reads_no_items() -> None:
    def unreadable():
        raise AssertionError("the items were read although no digest was due")
        yield

    sent = AlertState("x", NOW)
    assert alert_rules.items_failed(TENANT, unreadable(), sent, NOW + timedelta(hours=1), POLICY) is None
    assert alert_rules.held_back(TENANT, unreadable(), sent, NOW + timedelta(days=6), POLICY) is None


def test_items_held_back_longer_than_the_limit_are_mailed_weekly_but_not_those_before_the_start_day() -> None:
    week_old, fresh = _held(1, NOW - timedelta(days=8)), _held(2, NOW - timedelta(days=1))
    before_start = _held(3, NOW - timedelta(days=30), ReasonCode.COMPLETED_BEFORE_START)
    assert alert_rules.held_back(TENANT, [fresh, before_start], AlertState(), NOW, POLICY) is None
    mail = alert_rules.held_back(TENANT, [week_old, fresh, before_start], AlertState(), NOW, POLICY)
    assert mail is not None and "task 1 (since 2025-03-06" in mail.body
    assert "task 2" not in mail.body and "task 3" not in mail.body
    assert "held back for over 7 days (weekly)" in mail.subject
    sent = AlertState(mail.fingerprint, NOW)
    assert alert_rules.held_back(TENANT, [week_old], sent, NOW + timedelta(days=6), POLICY) is None
    assert alert_rules.held_back(TENANT, [week_old], sent, NOW + timedelta(days=7), POLICY) is not None


def test_a_long_digest_lists_fifty_items_and_counts_the_rest() -> None:
    many = [_failed(n, NOW) for n in range(1, 61)]
    mail = alert_rules.items_failed(TENANT, many, AlertState(), NOW, POLICY)
    assert mail is not None and "60 item(s)" in mail.subject
    assert mail.body.count("\n- task ") == 50 and "and 10 more" in mail.body


def test_a_company_name_with_a_line_break_stays_on_the_subject_line() -> None:
    tenant = TenantLabel(7, "Putkiliike\r\nBcc: everyone@example.fi")
    mail = alert_rules.credentials_working(tenant, AlertState("refused:fp", NOW))
    assert mail is not None and "\n" not in mail.subject and "\r" not in mail.subject
    assert "(Putkiliike Bcc: everyone@example.fi)" in mail.subject

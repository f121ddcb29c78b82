"""Which alert mails a tenant's state calls for, and when a tenant backs off: pure decisions over plain data.

Each condition of a tenant is mailed once: what was last mailed is kept per (tenant, condition) as an `AlertState`,
and a decision here returns a mail only when the condition's content differs from it (a new episode) or its
period has passed (a reminder, a digest). The caller claims the state atomically before sending, so two
processes that decide the same never both send.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from hashlib import sha256

from spotilla_procountor.domain import alert_mails
from spotilla_procountor.domain.alerts import (
    AlertMail,
    AlertPolicy,
    AlertState,
    FailedStreak,
    Refusals,
    RunStreaks,
    TenantLabel,
)
from spotilla_procountor.domain.reasons import ReasonCode
from spotilla_procountor.domain.state import Record, RunFailure, RunStatus
from spotilla_procountor.domain.sync import SyncReport

REFUSED = "refused:"
WORKING = "working"


def streaks_after(streaks: RunStreaks, report: SyncReport, credentials: str, now: datetime) -> RunStreaks:
    """The streaks once a run ended so: a FAILED run adds to the failed streak, a refusal to the refusals (of these
    credentials; of others it is the first), and a run that did its work ends both; an interrupted one ends none."""
    failed, refusals = streaks.failed, streaks.refusals
    if report.status == RunStatus.FAILED:
        failed = FailedStreak(failed.count + 1, failed.since or now, report.error)
    elif report.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
        failed, refusals = FailedStreak(), None
    if report.failure == RunFailure.CREDENTIALS_REFUSED:
        same = refusals is not None and refusals.credentials == credentials
        refusals = Refusals(refusals.count + 1 if refusals is not None and same else 1, now, credentials)
    return RunStreaks(failed, refusals)


def backoff_until(refusals: Refusals | None, credentials: str, policy: AlertPolicy) -> datetime | None:
    """When a tenant whose credentials were refused may log in again; None when it does not back off.

    It backs off after `refusals_before_backoff` refusals in a row of these very credentials: stored credentials
    that changed since (a new API key, or a re-encryption) are tried at once.
    """
    if refusals is None or refusals.count < policy.refusals_before_backoff or refusals.credentials != credentials:
        return None
    return refusals.last_at + policy.backoff


def credentials_refused(
    tenant: TenantLabel, refusals: Refusals | None, state: AlertState, now: datetime, policy: AlertPolicy
) -> AlertMail | None:
    """The first mail once refusals reach the back-off, then a reminder per `reminder_every` while they last."""
    if refusals is None or refusals.count < policy.refusals_before_backoff:
        return None
    fingerprint = REFUSED + refusals.credentials
    reminder = state.fingerprint == fingerprint
    if reminder and state.sent_at is not None and now < state.sent_at + policy.reminder_every:
        return None
    return alert_mails.credentials_refused(tenant, refusals, fingerprint, policy, reminder=reminder)


def credentials_working(tenant: TenantLabel, state: AlertState) -> AlertMail | None:
    """A notice that the credentials work again, once, after a refusal was mailed."""
    if not (state.fingerprint or "").startswith(REFUSED):
        return None
    return alert_mails.credentials_working(tenant, WORKING)


def runs_failed(
    tenant: TenantLabel,
    streak: FailedStreak,
    failure: RunFailure | None,
    state: AlertState,
    policy: AlertPolicy,
) -> AlertMail | None:
    """One mail per streak of `failed_runs` FAILED runs; refused credentials have their own mail."""
    if streak.count < policy.failed_runs or failure == RunFailure.CREDENTIALS_REFUSED:
        return None
    fingerprint = f"since:{streak.since.isoformat() if streak.since else ''}"
    if state.fingerprint == fingerprint:
        return None
    return alert_mails.runs_failed(tenant, streak, fingerprint)


def items_failed(
    tenant: TenantLabel, failed: Iterable[Record], state: AlertState, now: datetime, policy: AlertPolicy
) -> AlertMail | None:
    """A digest of the items that failed since the last one, at most one per `items_digest_every`."""
    if state.sent_at is not None and now < state.sent_at + policy.items_digest_every:
        return None
    new = _sorted(r for r in failed if state.sent_at is None or r.updated_at is None or r.updated_at > state.sent_at)
    if not new:
        return None
    return alert_mails.items_failed(tenant, new, _fingerprint_of(new))


def held_back(
    tenant: TenantLabel, held: Iterable[Record], state: AlertState, now: datetime, policy: AlertPolicy
) -> AlertMail | None:
    """A digest of the items held back longer than `held_back_days`, at most one per `held_back_every`.

    Tasks completed before the tenant's start day are held back for good, by design: they are left out.
    """
    if state.sent_at is not None and now < state.sent_at + policy.held_back_every:
        return None
    older_than = now - timedelta(days=policy.held_back_days)
    old = _sorted(r for r in held if _waits_for_a_person(r) and (_held_since(r) or now) <= older_than)
    if not old:
        return None
    return alert_mails.held_back(tenant, old, policy.held_back_days, _fingerprint_of(old))


def _waits_for_a_person(record: Record) -> bool:
    return all(reason.code != ReasonCode.COMPLETED_BEFORE_START for reason in record.reasons)


_KIND_ORDER = {"TASK": 0, "CUSTOMER": 1, "PRODUCT": 2}


def _held_since(record: Record) -> datetime | None:
    """Since when the item is held back: its state's start, which a run judging it again does not move."""
    return record.state_since or record.updated_at


def _sorted(records: Iterable[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (_KIND_ORDER.get(r.kind, 9), r.spotilla_id))


def _fingerprint_of(records: Sequence[Record]) -> str:
    """Which items (and which data of theirs) a digest listed."""
    text = "\n".join(f"{r.kind}:{r.spotilla_id}:{r.fingerprint or ''}" for r in records)
    return sha256(text.encode()).hexdigest()[:16]

"""Alerts as plain data: the conditions mailed, who hears of them, what was last sent, and the mailer port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


class Condition(StrEnum):
    """What an alert mail is about; one alert state per tenant and condition."""

    CREDENTIALS_REFUSED = "CREDENTIALS_REFUSED"
    """Procountor refused the tenant's credentials N times in a row (then a reminder a day, a notice when fixed)."""
    RUNS_FAILED = "RUNS_FAILED"
    """The tenant's runs FAILED N times in a row."""
    ITEMS_FAILED = "ITEMS_FAILED"
    """Items Procountor refused since the last digest (one digest a day at most)."""
    HELD_BACK = "HELD_BACK"
    """Items held back longer than N days (a weekly digest)."""


class Audience(StrEnum):
    """Who a mail is for."""

    ADMINS = "ADMINS"
    """The tenant's own admins (`tenants notify`): they fix data and credentials."""
    OPERATORS = "OPERATORS"
    """The people who run the service (`ALERT_OPERATORS`): they fix the service and its settings."""


AUDIENCES: dict[Condition, frozenset[Audience]] = {
    Condition.CREDENTIALS_REFUSED: frozenset({Audience.ADMINS, Audience.OPERATORS}),
    Condition.RUNS_FAILED: frozenset({Audience.OPERATORS}),
    Condition.ITEMS_FAILED: frozenset({Audience.ADMINS}),
    Condition.HELD_BACK: frozenset({Audience.ADMINS}),
}


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Thresholds and periods of the alerts and of the credential back-off."""

    failed_runs: int = 3
    held_back_days: float = 7
    refusals_before_backoff: int = 2
    """Refusals in a row after which the tenant backs off and the credentials alert goes out."""
    backoff: timedelta = timedelta(minutes=60)
    reminder_every: timedelta = timedelta(days=1)
    items_digest_every: timedelta = timedelta(days=1)
    held_back_every: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class AlertState:
    """What was last mailed for one condition of one tenant (nothing yet: both None)."""

    fingerprint: str | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Refusals:
    """Procountor's refusals of a tenant's credentials in a row, and which stored credentials it refused."""

    count: int
    last_at: datetime
    credentials: str
    """Fingerprint of the stored credentials that were refused; other credentials are tried at once."""


@dataclass(frozen=True, slots=True)
class FailedStreak:
    """The tenant's runs that FAILED one after another, up to its newest."""

    count: int = 0
    since: datetime | None = None
    """When the first of them ended: one streak, one mail."""
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class RunStreaks:
    """What a tenant's runs in a row tell: how many FAILED, and how often its credentials were refused."""

    failed: FailedStreak = FailedStreak()
    refusals: Refusals | None = None


@dataclass(frozen=True, slots=True)
class TenantLabel:
    """How a mail names the tenant."""

    organization_id: int
    company: str | None = None

    def __str__(self) -> str:
        company = " ".join((self.company or "").split())  # a name with a line break must not break a mail header
        return f"organization {self.organization_id}" + (f" ({company})" if company else "")


@dataclass(frozen=True, slots=True)
class AlertMail:
    """One alert to send: plain text, never a secret in it."""

    condition: Condition
    fingerprint: str
    """Stored as sent once it went out: what the next decision compares with."""
    subject: str
    body: str
    audiences: frozenset[Audience]


class Mailer(Protocol):
    """Sends an alert to its recipients; raises `MailNotSent` when the mail could not be handed over."""

    def send(self, mail: AlertMail, recipients: Sequence[str]) -> None: ...


class MailNotSent(Exception):
    """The mail server could not be reached or refused the mail; the condition stays unsent."""

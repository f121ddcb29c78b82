"""The integration's own memory as plain data: links, transfer records, runs and their events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EntityKind(StrEnum):
    """What a link or an event is about."""

    PRODUCT = "PRODUCT"
    CUSTOMER = "CUSTOMER"
    TASK = "TASK"


class LinkState(StrEnum):
    """PENDING: a create may have been sent, outcome unknown; LINKED: paired; HELD_BACK/FAILED: with a reason."""

    PENDING = "PENDING"
    LINKED = "LINKED"
    HELD_BACK = "HELD_BACK"
    FAILED = "FAILED"


class TransferState(StrEnum):
    """A task's way to Procountor: pending → sent → created, or held back / failed with reasons."""

    PENDING = "PENDING"
    SENT = "SENT"
    CREATED = "CREATED"
    HELD_BACK = "HELD_BACK"
    FAILED = "FAILED"


class Outcome(StrEnum):
    """What happened to one item in a run."""

    CREATED = "CREATED"
    LINKED = "LINKED"
    UPDATED = "UPDATED"
    ADOPTED = "ADOPTED"
    HELD_BACK = "HELD_BACK"
    FAILED = "FAILED"
    WOULD_CREATE = "WOULD_CREATE"
    WOULD_UPDATE = "WOULD_UPDATE"


class RunStatus(StrEnum):
    """How a run ended."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    INTERRUPTED = "INTERRUPTED"
    SKIPPED = "SKIPPED"
    """Not run: switched off, or another process holds the tenant's lock (never stored in the run log)."""


@dataclass(frozen=True, slots=True)
class Link:
    """A Spotilla object paired with its Procountor counterpart (or a create still in doubt)."""

    organization_id: int
    kind: EntityKind
    spotilla_id: int
    procountor_id: int | None
    state: LinkState
    fingerprint: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A task's transfer to Procountor, keyed by the deterministic external key."""

    organization_id: int
    task_id: int
    key: str
    state: TransferState
    invoice_id: int | None = None
    reasons: tuple[str, ...] = ()
    """`CODE: sentence` strings, as shown to a person."""
    fingerprint: str | None = None
    """Digest of the data the last attempt used; a failed task is retried only when it changes."""
    attempts: int = 0
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One item's outcome in a run."""

    flow: str
    kind: EntityKind
    spotilla_id: int | None
    outcome: Outcome
    procountor_id: int | None = None
    reason_code: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A finished (or running) run as the run log keeps it."""

    id: int
    organization_id: int
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class PartnerMirrorEntry:
    """What the integration remembers of a Procountor partner, to match customers without asking again."""

    partner_id: int
    business_id: str | None
    version: datetime | None

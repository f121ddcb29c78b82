"""The integration's own memory as plain data: records of Spotilla things and their Procountor twins, runs, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from spotilla_procountor.domain.reasons import Reason


class EntityKind(StrEnum):
    """What a record or an event is about."""

    PRODUCT = "PRODUCT"
    CUSTOMER = "CUSTOMER"
    TASK = "TASK"


class Flow(StrEnum):
    """The parts of a cycle, as named in run counts and events."""

    PRODUCTS = "products"
    CUSTOMERS_OUT = "customers_out"
    PARTNERS_IN = "partners_in"
    INVOICES = "invoices"


class RecordState(StrEnum):
    """One state machine for every "this Spotilla thing ↔ that Procountor thing".

    PENDING: claimed, a create may be under way; SENT: the create was sent and its answer lost. Both are *in
    doubt*: the object is looked up in Procountor before anything is sent again. LINKED: paired with its
    Procountor object (a task: its invoice was created). HELD_BACK: waits for its data to be fixed.
    FAILED: Procountor refused exactly this data; tried again when the data changes. RETIRED: the Spotilla item
    was deleted; the record is kept as history.
    """

    PENDING = "PENDING"
    SENT = "SENT"
    LINKED = "LINKED"
    HELD_BACK = "HELD_BACK"
    FAILED = "FAILED"
    RETIRED = "RETIRED"
    """The Spotilla item was deleted; kept as history, its Procountor object no longer followed or paired."""

    @property
    def in_doubt(self) -> bool:
        return self in (RecordState.PENDING, RecordState.SENT)


IN_DOUBT = frozenset({RecordState.PENDING, RecordState.SENT})
OPEN = frozenset({RecordState.PENDING, RecordState.SENT, RecordState.HELD_BACK, RecordState.FAILED})


class Outcome(StrEnum):
    """What happened to one item in a run."""

    CREATED = "CREATED"
    LINKED = "LINKED"
    UPDATED = "UPDATED"
    ADOPTED = "ADOPTED"
    HELD_BACK = "HELD_BACK"
    FAILED = "FAILED"
    RETIRED = "RETIRED"
    WAITING = "WAITING"
    """In doubt since an earlier run's create that may still be on its way; looked up by a later run."""
    WOULD_CREATE = "WOULD_CREATE"
    WOULD_UPDATE = "WOULD_UPDATE"


class RunStatus(StrEnum):
    """How a run ended."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    """Everything was done; items held back for their data are fine (they wait for a person, with a reason)."""
    PARTIAL = "PARTIAL"
    """The run did its work, but some items failed (Procountor refused them, or an error hit just them)."""
    FAILED = "FAILED"
    """The run could not do its work (credentials refused or unreadable, Procountor or the database away, ...)."""
    INTERRUPTED = "INTERRUPTED"
    SKIPPED = "SKIPPED"
    """Not run: switched off, or another process holds the tenant's lock (never stored in the run log)."""


SUCCESSFUL_RUNS = frozenset({RunStatus.SUCCEEDED, RunStatus.PARTIAL})
"""Runs that did their work; a PARTIAL one's failed items are watched on their own (status --check, the gauges)."""


class RunFailure(StrEnum):
    """Why a run FAILED, for what must follow (an alert, a back-off); the sentence for people is the run's error."""

    CREDENTIALS_REFUSED = "CREDENTIALS_REFUSED"
    """Procountor refused the tenant's credentials (a revoked or mistyped API key, a changed client secret)."""
    CREDENTIALS_UNREADABLE = "CREDENTIALS_UNREADABLE"
    """The stored credentials cannot be decrypted with the service's keys, or there are none."""
    LOCK_LOST = "LOCK_LOST"
    UNAVAILABLE = "UNAVAILABLE"
    """Procountor or the database did not answer; the next run tries again."""
    INTERNAL = "INTERNAL"
    """A bug; the service log has the traceback."""


@dataclass(frozen=True, slots=True)
class Fence:
    """Proof that a run holds its tenant's lock: the lock's epoch, raised by one each time the lock is taken.

    A claim carries it and succeeds only while the epoch is the tenant's newest and the lock is still held, so a
    run that lost its lock (a dropped connection, an expired lease) can never claim an item another run holds.
    """

    organization_id: int
    epoch: int
    holder: str


@dataclass(frozen=True, slots=True)
class Record:
    """A Spotilla product, customer or task and its Procountor counterpart (partner, product, invoice)."""

    organization_id: int
    kind: EntityKind
    spotilla_id: int
    state: RecordState
    procountor_id: int | None = None
    reasons: tuple[Reason, ...] = ()
    fingerprint: str | None = None
    """Digest of the data the last attempt used; a refused item is tried again only when it changes."""
    attempts: int = 0
    claim_epoch: int | None = None
    """Epoch of the run lock under which the last create was claimed."""
    claimed_at: datetime | None = None
    updated_at: datetime | None = None
    state_since: datetime | None = None
    """When the record entered its state (a page's "held back since"); the store sets it when it saves the record:
    to the time of saving when the state changes, unchanged when the same state is saved again."""

    @property
    def in_doubt(self) -> bool:
        return self.state.in_doubt

    @property
    def reason_text(self) -> str:
        return " ".join(r.message for r in self.reasons)


@dataclass(frozen=True, slots=True)
class Event:
    """One item's outcome in a run."""

    flow: Flow
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

"""One create-once pipeline for every object type: plan → claim → send → adopt-or-record.

Procountor has no idempotency keys, so this is the one place that makes creates happen exactly once:

- A flow's planner turns its inputs into actions: link to an object Procountor already has, create one, hold the
  item back with reasons, or settle a create left in doubt.
- Before a create is sent, its record is *claimed* (state PENDING) with the run's fence. The claim commits on its
  own and succeeds only while the run holds its tenant's lock, so two runs can never both send the same item.
- What follows the answer (the record's final state, the run-log event, any extra writes of the object type)
  commits together. A lost answer leaves the record SENT: in doubt.
- A record in doubt is looked up in Procountor (by the object type's look-up) before anything is sent again, and
  adopted if found. A claim made by an earlier run less than `claim_grace` ago is left alone: that run's create
  may still be on its way, and a look-up now could miss it.

An object type supplies only what differs: how to send, how to look up, and how to word a refusal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Generic, Protocol, TypeVar

from spotilla_procountor.domain.concurrency import ShutdownRequested, for_each
from spotilla_procountor.domain.deadline import send_within
from spotilla_procountor.domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    LockLost,
    NotFound,
    NotSent,
    OutcomeUnknown,
    ProcountorError,
    ProcountorRejected,
    RecordConflict,
    RepositoryError,
    TemporarilyUnavailable,
)
from spotilla_procountor.domain.held_writes import HeldWrites
from spotilla_procountor.domain.ports import Clock, StateStore
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.recorder import RunRecorder
from spotilla_procountor.domain.state import EntityKind, Fence, Flow, Outcome, Record, RecordState

P = TypeVar("P")
P_contra = TypeVar("P_contra", contravariant=True)
log = logging.getLogger("spotilla_procountor.sync")

_STOPS_THE_RUN = (LockLost, AuthenticationFailed, RepositoryError, TemporarilyUnavailable, ShutdownRequested)
"""What stops every item alike, so it stops the run; anything else that goes wrong is one item's problem."""


class ObjectType(Protocol[P_contra]):
    """What the pipeline needs to know of one kind of Procountor object (product, partner, invoice …)."""

    kind: EntityKind
    flow: Flow

    def send(self, payload: P_contra) -> int:
        """Creates the object in Procountor; returns its id. Raises the gateway's errors."""
        ...

    def look_up(self, spotilla_id: int, payload: P_contra | None) -> int | None:
        """After a lost answer: the id of the object the lost create made, or None if Procountor has none."""
        ...

    def refused(self, spotilla_id: int, error: ProcountorError) -> Reason:
        """Why the item failed when Procountor refused it (400, or 403/404 for this one object)."""
        ...

    def no_answer(self, spotilla_id: int, error: OutcomeUnknown) -> Reason:
        """Why the item is in doubt when the answer was lost."""
        ...

    def created(self, payload: P_contra, procountor_id: int) -> None:
        """Extra writes that belong with a successful create (inside the same commit); usually nothing."""
        ...


# -- actions a planner returns -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkExisting:
    """Pair the item with an object Procountor already has."""

    spotilla_id: int
    procountor_id: int
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class Create(Generic[P]):
    """Create the item's object in Procountor (after looking up a create left in doubt)."""

    spotilla_id: int
    payload: P
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class HoldBack:
    """The item waits, with every reason (a create left in doubt is looked up first)."""

    spotilla_id: int
    reasons: tuple[Reason, ...]
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class Retire:
    """The Spotilla item is gone: keep its record as history and stop following its Procountor object."""

    spotilla_id: int
    reason: Reason


Action = LinkExisting | Create[P] | HoldBack | Retire


@dataclass
class Results:
    """What the pipeline achieved: items paired with Procountor ids, and items that wait with their reasons."""

    linked: dict[int, int] = field(default_factory=dict)
    problems: dict[int, tuple[Reason, ...]] = field(default_factory=dict)
    retired: dict[int, int] = field(default_factory=dict)
    """Spotilla id → Procountor id of items deleted in Spotilla: their Procountor objects are left alone."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def link(self, spotilla_id: int, procountor_id: int) -> None:
        with self._lock:
            self.linked[spotilla_id] = procountor_id
            self.problems.pop(spotilla_id, None)

    def problem(self, spotilla_id: int, *reasons: Reason) -> None:
        with self._lock:
            self.problems[spotilla_id] = tuple(reasons)
            self.linked.pop(spotilla_id, None)


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """How the pipeline runs: side by side, stoppable, and how long an earlier run's claim is left alone."""

    workers: int = 1
    stop: threading.Event | None = None
    claim_grace: timedelta = timedelta(0)


class CreateOncePipeline:
    """Carries out planned actions for one object type, exactly once across runs, crashes and lost answers."""

    def __init__(
        self,
        *,
        state: StateStore,
        recorder: RunRecorder,
        clock: Clock,
        fence: Fence,
        settings: PipelineSettings,
    ) -> None:
        self._state = state
        self._recorder = recorder
        self._clock = clock
        self._fence = fence
        self._settings = settings
        self._local = threading.local()
        self._after: HeldWrites[Callable[[], None]] = HeldWrites()
        self._paired_now: dict[int, int] = {}
        """Procountor id → Spotilla id of the pairings this pipeline recorded."""
        self._paired_lock = threading.Lock()

    def run(
        self,
        object_type: ObjectType[P],
        actions: Iterable[Action[P]],
        records: Mapping[int, Record],
        results: Results | None = None,
    ) -> Results:
        """Links and hold-backs commit together at once; creates and look-ups go `workers` at a time."""
        results = results if results is not None else Results()
        actions = list(actions)
        now = [a for a in actions if not self._needs_a_request(a, records.get(a.spotilla_id))]
        later = [
            (a, records.get(a.spotilla_id)) for a in actions if self._needs_a_request(a, records.get(a.spotilla_id))
        ]
        try:
            with self._together():  # every link, hold-back and retirement that needs no request, in one commit
                for action in now:
                    self._settle_now(object_type, action, records.get(action.spotilla_id), results)
        except RecordConflict:  # one item pairs an object another item holds: find it, let the others through
            for action in now:
                self._guarded(object_type, action, records.get(action.spotilla_id), results, self._settle_now)
        for_each(
            later,
            lambda item: self._guarded(object_type, *item, results, self._resolve),
            workers=self._settings.workers,
            stop=self._settings.stop,
        )
        return results

    # -- the steps ---------------------------------------------------------------------------------------

    @staticmethod
    def _needs_a_request(action: Action[P], record: Record | None) -> bool:
        if isinstance(action, (LinkExisting, Retire)):
            return False
        return isinstance(action, Create) or (record is not None and record.in_doubt)

    def _settle_now(
        self, object_type: ObjectType[P], action: Action[P], record: Record | None, results: Results
    ) -> None:
        if isinstance(action, LinkExisting):
            self._link(object_type, action, record, results)
        elif isinstance(action, Retire):
            self._retire(object_type, action, record, results)
        elif isinstance(action, HoldBack):
            self._hold_back(object_type, action, record, results)

    def _guarded(
        self, object_type: ObjectType[P], action: Action[P], record: Record | None, results: Results, step
    ) -> None:
        """One item's step; whatever goes wrong with this one item holds it back, not the run.

        Only what stops every item stops the run: the lock lost, the credentials refused, the database or
        Procountor unreachable. A pairing that collides with another item's holds this item back (ALREADY_PAIRED);
        Procountor refusing a look-up, or a bug, fails this item (INTERNAL_ERROR, traceback in the log).
        """
        self._local.pairings = []
        try:
            with self._together():
                step(object_type, action, record, results)
        except RecordConflict as exc:
            log.warning("a pairing collided with another item's: %s", exc)
            self._pair_over_stale(object_type, action, record, results)
        except _STOPS_THE_RUN:
            raise
        except Exception as exc:  # this item only; its record keeps the state it had (in doubt stays in doubt)
            log.exception("an item failed", extra={"kind": str(object_type.kind), "spotilla_id": action.spotilla_id})
            reason = Reason.of(ReasonCode.INTERNAL_ERROR, error=type(exc).__name__)
            results.problem(action.spotilla_id, reason)
            self._recorder.record(
                object_type.flow, object_type.kind, action.spotilla_id, Outcome.FAILED, reasons=[reason]
            )

    def _pair_over_stale(
        self, object_type: ObjectType[P], action: Action[P], record: Record | None, results: Results
    ) -> None:
        """The pairing this item just made in Procountor (a create, a look-up, a listing) is Procountor's word now;
        another record holding the same id points at an object Procountor no longer has under it (it reuses ids
        after losing data), so that record lets the id go. Never held back here: the object exists, and holding the
        item back would create it again."""
        pairings, self._local.pairings = self._local.pairings, []
        with self._paired_lock:
            paired_now = {pid for pid, sid in self._paired_now.items() if sid != action.spotilla_id}
        if any(pid in paired_now for _record, pid, _outcome in pairings):
            pairings = []  # two items of this run want one object: a real duplicate in Spotilla, not a stale id
        try:
            with self._together():
                for record_now, procountor_id, outcome in pairings:
                    gone = Reason.of(
                        ReasonCode.GONE_IN_PROCOUNTOR, what=object_type.kind.lower(), procountor_id=procountor_id
                    )
                    self._state.release(
                        self._fence.organization_id, object_type.kind, procountor_id, gone, fence=self._fence
                    )
                    self._save_linked(object_type, record_now, procountor_id, outcome, results)
            if pairings:
                return
        except RecordConflict as exc:
            log.warning("record conflict held an item back: %s", exc)
        reason = Reason.of(ReasonCode.ALREADY_PAIRED, what=object_type.kind.lower(), procountor_id=_conflicting(action))
        with self._together():
            self._hold_back(object_type, HoldBack(action.spotilla_id, (reason,), None), record, results)

    @contextmanager
    def _together(self) -> Iterator[None]:
        """The state's writes, the run tally's counts and what the results say, as one: the counts and results
        stand only if the writes commit. Nested blocks join the outermost one."""
        with self._after.together(_call_each), self._recorder.batch(), self._state.together():
            yield

    def _after_commit(self, then: Callable[[], None]) -> None:
        if not self._after.hold(then):
            then()

    def _retire(self, object_type: ObjectType[P], action: Retire, record: Record | None, results: Results) -> None:
        if record is None or record.state == RecordState.RETIRED:
            return
        self._state.save_record(
            replace(record, state=RecordState.RETIRED, reasons=(action.reason,), updated_at=None), fence=self._fence
        )
        self._recorder.record(
            object_type.flow,
            object_type.kind,
            action.spotilla_id,
            Outcome.RETIRED,
            procountor_id=record.procountor_id,
            reasons=[action.reason],
        )
        if record.procountor_id is not None:
            results.retired[action.spotilla_id] = record.procountor_id

    def _resolve(self, object_type: ObjectType[P], action: Action[P], record: Record | None, results: Results) -> None:
        """Settles a record in doubt, then creates or holds back as planned."""
        if record is not None and record.in_doubt:
            if self._too_young(record):
                self._wait(object_type, record, results)
                return
            payload = action.payload if isinstance(action, Create) else None
            found = object_type.look_up(record.spotilla_id, payload)
            if found is not None:
                self._save_linked(object_type, record, found, Outcome.ADOPTED, results)
                return
        if isinstance(action, HoldBack):
            with self._together():
                self._hold_back(object_type, action, record, results)
        elif isinstance(action, Create):
            self._create(object_type, action, record, results)

    def _create(self, object_type: ObjectType[P], action: Create[P], record: Record | None, results: Results) -> None:
        claimed = self._state.claim(
            self._fence,
            Record(
                self._fence.organization_id,
                object_type.kind,
                action.spotilla_id,
                RecordState.PENDING,
                fingerprint=action.fingerprint,
                attempts=(record.attempts if record else 0) + 1,
            ),
        )
        try:
            with send_within(self._send_budget(claimed)):
                procountor_id = object_type.send(action.payload)
        except NotSent as exc:  # certainly not sent: the claim stays, and the next run looks up, then sends
            reason = Reason.of(ReasonCode.NOT_SENT, detail=str(exc))
            self._save_problem(object_type, claimed, RecordState.PENDING, reason, results)
            return
        except OutcomeUnknown as exc:
            reason = object_type.no_answer(action.spotilla_id, exc)
            self._save_problem(object_type, claimed, RecordState.SENT, reason, results)
            return
        except (ProcountorRejected, AccessDenied, NotFound) as exc:  # answered and not stored: this item's problem
            reason = object_type.refused(action.spotilla_id, exc)
            self._save_problem(object_type, claimed, RecordState.FAILED, reason, results)
            return
        except _STOPS_THE_RUN:
            raise
        except Exception:  # a bug after the claim: the create may have gone out, so it is looked up, never re-sent
            log.exception("a create failed unexpectedly", extra={"spotilla_id": action.spotilla_id})
            reason = Reason.of(ReasonCode.INTERNAL_ERROR, error="unexpected error while sending")
            self._save_problem(object_type, claimed, RecordState.SENT, reason, results)
            return
        with self._together():  # the record, the object type's own writes and the event in one commit
            object_type.created(action.payload, procountor_id)
            self._save_linked(object_type, claimed, procountor_id, Outcome.CREATED, results)

    def _link(self, object_type: ObjectType[P], action: LinkExisting, record: Record | None, results: Results) -> None:
        if record is not None and record.state == RecordState.LINKED and record.procountor_id == action.procountor_id:
            results.link(action.spotilla_id, action.procountor_id)
            return
        base = record or Record(self._fence.organization_id, object_type.kind, action.spotilla_id, RecordState.LINKED)
        outcome = Outcome.ADOPTED if record is not None and record.in_doubt else Outcome.LINKED
        self._save_linked(
            object_type, replace(base, fingerprint=action.fingerprint), action.procountor_id, outcome, results
        )

    def _save_linked(
        self, object_type: ObjectType[P], record: Record, procountor_id: int, outcome: Outcome, results: Results
    ) -> None:
        pairings = getattr(self._local, "pairings", None)
        if pairings is not None:
            pairings.append((record, procountor_id, outcome))
        with self._together():
            self._state.save_record(
                replace(record, state=RecordState.LINKED, procountor_id=procountor_id, reasons=(), updated_at=None),
                fence=self._fence,
            )
            self._recorder.record(
                object_type.flow, object_type.kind, record.spotilla_id, outcome, procountor_id=procountor_id
            )
            self._after_commit(lambda: self._paired(results, record.spotilla_id, procountor_id))

    def _paired(self, results: Results, spotilla_id: int, procountor_id: int) -> None:
        results.link(spotilla_id, procountor_id)
        with self._paired_lock:
            self._paired_now[procountor_id] = spotilla_id

    def _save_problem(
        self, object_type: ObjectType[P], record: Record, state: RecordState, reason: Reason, results: Results
    ) -> None:
        with self._together():
            self._state.save_record(replace(record, state=state, reasons=(reason,), updated_at=None), fence=self._fence)
            self._recorder.record(
                object_type.flow, object_type.kind, record.spotilla_id, Outcome.FAILED, reasons=[reason]
            )
        results.problem(record.spotilla_id, reason)

    def _hold_back(self, object_type: ObjectType[P], action: HoldBack, record: Record | None, results: Results) -> None:
        """Stores the reasons; the run log hears of them again only when they change."""
        results.problem(action.spotilla_id, *action.reasons)
        told = record is not None and record.state == RecordState.HELD_BACK and record.reasons == action.reasons
        if told and record is not None and record.fingerprint == action.fingerprint:
            return
        base = record or Record(
            self._fence.organization_id, object_type.kind, action.spotilla_id, RecordState.HELD_BACK
        )
        self._state.save_record(
            replace(
                base,
                state=RecordState.HELD_BACK,
                procountor_id=None,
                reasons=action.reasons,
                fingerprint=action.fingerprint,
                updated_at=None,
            ),
            fence=self._fence,
        )
        if not told:
            self._recorder.record(
                object_type.flow, object_type.kind, action.spotilla_id, Outcome.HELD_BACK, reasons=action.reasons
            )

    def _too_young(self, record: Record) -> bool:
        """A claim of an earlier run, made so recently that its create may still be on its way to Procountor.

        For a create whose answer was lost (SENT), the grace counts from when the answer was given up: Procountor
        may still have been working on it then.
        """
        if record.claimed_at is None or record.claim_epoch == self._fence.epoch:
            return False
        since = record.claimed_at
        if record.state == RecordState.SENT and record.updated_at is not None:
            since = max(since, record.updated_at)
        return self._clock.now() - since < self._settings.claim_grace

    def _send_budget(self, claimed: Record) -> float | None:
        """Seconds left to start sending a claimed create: a quarter of the grace, counted from the claim.

        With the grace at least four request timeouts, a create that starts in time has connected, been written and
        answered (or timed out) before the grace is over, whatever it waited for (a pool slot, its rate-limit turn,
        retries after a 429).
        """
        grace = self._settings.claim_grace.total_seconds()
        if grace <= 0 or claimed.claimed_at is None:
            return None
        return grace / 4 - (self._clock.now() - claimed.claimed_at).total_seconds()

    def _wait(self, object_type: ObjectType[P], record: Record, results: Results) -> None:
        age = max(0, int((self._clock.now() - record.claimed_at).total_seconds())) if record.claimed_at else 0
        reason = Reason.of(ReasonCode.CLAIMED_BY_EARLIER_RUN, seconds=age)
        log.info(
            "left in doubt for a later run", extra={"kind": str(object_type.kind), "spotilla_id": record.spotilla_id}
        )
        results.problem(record.spotilla_id, reason)
        self._recorder.record(object_type.flow, object_type.kind, record.spotilla_id, Outcome.WAITING, reasons=[reason])


def _call_each(calls: list[Callable[[], None]]) -> None:
    for call in calls:
        call()


def _conflicting(action: Action[object]) -> object:
    return getattr(action, "procountor_id", None) or "(new)"


def retirements(records: Mapping[int, Record], existing: Container[int], what: str) -> list[Retire]:
    """A Retire for each record whose Spotilla item no longer exists (and is not retired yet)."""
    return [
        Retire(
            sid, Reason.of(ReasonCode.DELETED_IN_SPOTILLA, what=f"{what} {sid}", procountor_id=r.procountor_id or "—")
        )
        for sid, r in records.items()
        if sid not in existing and r.state != RecordState.RETIRED
    ]


def guarded_plan(spotilla_id: int, plan: Callable[[], Action[P] | None], fingerprint: str | None) -> Action[P] | None:
    """One item's planning; a bug or a value nothing expected holds that item back, never the run."""
    try:
        return plan()
    except Exception as exc:
        log.exception("planning an item failed", extra={"spotilla_id": spotilla_id})
        return HoldBack(spotilla_id, (Reason.of(ReasonCode.INTERNAL_ERROR, error=type(exc).__name__),), fingerprint)


def retired_ids(records: Mapping[int, Record]) -> dict[int, int]:
    """Spotilla id → Procountor id of the records kept as history after their Spotilla item was deleted."""
    return {
        sid: r.procountor_id
        for sid, r in records.items()
        if r.state == RecordState.RETIRED and r.procountor_id is not None
    }


def unchanged_refusal(record: Record | None, fingerprint: str | None) -> bool:
    """Procountor refused exactly this data before: not retried in a loop, only once the data changes."""
    return record is not None and record.state == RecordState.FAILED and record.fingerprint == fingerprint


def linked_ids(records: Mapping[int, Record]) -> dict[int, int]:
    """Spotilla id → Procountor id of the records that are paired."""
    return {
        sid: r.procountor_id
        for sid, r in records.items()
        if r.state == RecordState.LINKED and r.procountor_id is not None
    }

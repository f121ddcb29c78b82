"""Collects each item's outcome in a run: counts for the summary, events for the run log."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager

from spotilla_procountor.domain.held_writes import HeldWrites
from spotilla_procountor.domain.ports import StateStore
from spotilla_procountor.domain.reasons import Reason
from spotilla_procountor.domain.state import EntityKind, Event, Flow, Outcome

log = logging.getLogger("spotilla_procountor.sync")
_DRY = {Outcome.CREATED: Outcome.WOULD_CREATE, Outcome.UPDATED: Outcome.WOULD_UPDATE}


class RunRecorder:
    """Thread-safe tally of a run; writes events through to the run log unless it is a dry run."""

    def __init__(
        self,
        state: StateStore | None,
        run_id: int | None,
        *,
        dry_run: bool = False,
        listener: Callable[[Event], None] | None = None,
    ) -> None:
        self._listener = listener
        self._state = state
        self._run_id = run_id
        self._dry_run = dry_run
        self._lock = threading.Lock()
        self._held: HeldWrites[Event] = HeldWrites()
        self.counts: Counter[str] = Counter()
        self.events: list[Event] = []

    def batch(self) -> AbstractContextManager[None]:
        """Outcomes noted by this thread in the block count only if it ends without an error.

        Goes around a `StateStore.together()` block (outside it), so that a tally never counts an outcome whose
        record and event were rolled back. Nested blocks join the outermost one.
        """
        return self._held.together(self._tally_all)

    def _tally_all(self, events: list[Event]) -> None:
        for event in events:
            self._tally(event)

    def _tally(self, event: Event) -> None:
        with self._lock:
            self.counts[f"{event.flow}.{event.outcome}"] += 1
            self.events.append(event)
        if event.outcome == Outcome.FAILED:  # logged once it is recorded, so a log line is never a rolled-back item
            log.warning(
                "item failed: %s",
                event.message or event.reason_code or "no reason given",
                extra={
                    "flow": str(event.flow),
                    "kind": str(event.kind),
                    "spotilla_id": event.spotilla_id,
                    "reason_code": event.reason_code,
                },
            )
        if self._listener is not None:
            self._listener(event)

    def record(
        self,
        flow: Flow,
        kind: EntityKind,
        spotilla_id: int | None,
        outcome: Outcome,
        *,
        procountor_id: int | None = None,
        reasons: list[Reason] | tuple[Reason, ...] = (),
        message: str | None = None,
    ) -> Event:
        """Notes one outcome; the reasons' codes and sentences travel with it."""
        if self._dry_run:
            outcome = _DRY.get(outcome, outcome)
        event = Event(
            flow=flow,
            kind=kind,
            spotilla_id=spotilla_id,
            outcome=outcome,
            procountor_id=procountor_id,
            reason_code=",".join(r.code for r in reasons) or None,
            message=message or " ".join(r.message for r in reasons) or None,
        )
        if self._state is not None and self._run_id is not None and not self._dry_run:
            self._state.record_event(self._run_id, event)
        if not self._held.hold(event):
            self._tally(event)
        return event

"""What every flow of one tenant's cycle shares: the ports, the clock, the run's tally, its fence and options.

Nothing here is data one flow fills in for another: each flow takes what it needs as arguments and returns
what it found.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta

from spotilla_procountor.domain.create_once import CreateOncePipeline
from spotilla_procountor.domain.model import IntegrationSettings
from spotilla_procountor.domain.ports import Clock, ProcountorGateway, SpotillaRepository, StateStore
from spotilla_procountor.domain.recorder import RunRecorder
from spotilla_procountor.domain.state import Event, Fence


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """Knobs of a cycle: how many creates may be under way at once and how far back the partner pull looks."""

    workers: int = 1
    partner_pull_overlap: timedelta = timedelta(minutes=2)
    """Re-read partners changed this long before the newest version seen. Both the filter and the versions are
    Procountor's clock, so our clock's skew does not matter; this covers Procountor's own commit order (a
    version stamped just before the newest one seen may become visible only after the listing)."""
    claim_grace: timedelta = timedelta(0)
    """A create claimed by an earlier run this recently is not looked up yet: it may still be on its way. The
    service sets it from `CLAIM_GRACE_S` (2 minutes); none by default, for callers that run one process."""
    stop: threading.Event | None = None
    """Set by the service on SIGTERM/SIGINT: items under way finish, no new one starts."""
    on_event: Callable[[Event], None] | None = None
    """Told of every item's outcome as it happens (progress bars)."""
    run_scope: Callable[[int, int], AbstractContextManager[None]] | None = None
    """Wraps a run's flows given (organization_id, run_id), e.g. to put the run id on every log line."""


@dataclass(frozen=True)
class Cycle:
    """One tenant's cycle: its ports, settings, tally and create-once pipeline. Holds no data between flows."""

    organization_id: int
    settings: IntegrationSettings
    procountor: ProcountorGateway
    spotilla: SpotillaRepository
    state: StateStore
    clock: Clock
    recorder: RunRecorder
    pipeline: CreateOncePipeline
    fence: Fence
    """The run's hold on its tenant's lock: every record the run writes carries it."""
    options: SyncOptions = field(default_factory=SyncOptions)

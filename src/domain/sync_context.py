"""What every flow of one tenant's cycle shares: the ports, the clock, the tally and the options."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from spotilla_procountor.domain.model import Customer, IntegrationSettings, Product
from spotilla_procountor.domain.ports import Clock, ProcountorGateway, SpotillaRepository, StateStore
from spotilla_procountor.domain.reasons import Reason
from spotilla_procountor.domain.recorder import RunRecorder
from spotilla_procountor.domain.state import Event, PartnerMirrorEntry


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """Knobs of a cycle: how many creates may be under way at once and how far back the partner pull looks."""

    workers: int = 1
    partner_pull_overlap: timedelta = timedelta(minutes=2)
    """Re-read partners changed this long before the newest version seen. Both the filter and the versions are
    Procountor's clock, so our clock's skew does not matter; this covers Procountor's own commit order (a
    version stamped just before the newest one seen may become visible only after the listing)."""
    stop: threading.Event | None = None
    """Set by the service on SIGTERM/SIGINT: items under way finish, no new one starts."""
    on_event: Callable[[Event], None] | None = None
    """Told of every item's outcome as it happens (progress bars)."""
    run_scope: Callable[[int, int], AbstractContextManager[None]] | None = None
    """Wraps a run's flows given (organization_id, run_id), e.g. to put the run id on every log line."""


@dataclass
class CycleContext:
    """One tenant's cycle: its ports, its settings, the data loaded once and shared by the flows."""

    organization_id: int
    settings: IntegrationSettings
    procountor: ProcountorGateway
    spotilla: SpotillaRepository
    state: StateStore
    clock: Clock
    recorder: RunRecorder
    options: SyncOptions = field(default_factory=SyncOptions)
    products: dict[int, Product] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    product_links: dict[int, int] = field(default_factory=dict)
    """Spotilla product id → Procountor product id, for products usable on invoices."""
    product_problems: dict[int, Reason] = field(default_factory=dict)
    partner_links: dict[int, int] = field(default_factory=dict)
    """Spotilla customer id → Procountor partner id."""
    customer_problems: dict[int, list[Reason]] = field(default_factory=dict)
    partner_mirror: dict[int, PartnerMirrorEntry] = field(default_factory=dict)
    """The partners remembered before this cycle's pull, read once per cycle."""
    partner_high_water: datetime | None = None
    """Newest partner version in this cycle's pull (Procountor's clock); the next pull starts near it."""

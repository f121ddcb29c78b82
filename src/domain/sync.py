"""The sync cycle of one tenant: products → customers out → partners in and their changes → invoices."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass, field

from spotilla_procountor.domain.concurrency import ShutdownRequested
from spotilla_procountor.domain.dry_run import DryRunProcountor, DryRunSpotilla, DryRunStateStore
from spotilla_procountor.domain.errors import AuthenticationFailed, IntegrationError
from spotilla_procountor.domain.ports import Clock, ProcountorGateway, SpotillaRepository, StateStore
from spotilla_procountor.domain.recorder import RunRecorder
from spotilla_procountor.domain.state import Event, RunStatus
from spotilla_procountor.domain.sync_context import CycleContext, SyncOptions
from spotilla_procountor.domain.sync_customers import pull_partner_changes, pull_partners, push_customers
from spotilla_procountor.domain.sync_invoices import sync_invoices
from spotilla_procountor.domain.sync_products import sync_products

log = logging.getLogger("spotilla_procountor.sync")


@dataclass
class SyncReport:
    """What one cycle of one tenant did."""

    organization_id: int
    status: RunStatus
    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    error: str | None = None
    dry_run: bool = False


class SyncCycle:
    """Runs one tenant's cycle against the ports; one failing item never stops the others."""

    def __init__(
        self,
        *,
        procountor: ProcountorGateway,
        spotilla: SpotillaRepository,
        state: StateStore,
        clock: Clock,
        options: SyncOptions | None = None,
    ) -> None:
        self._procountor = procountor
        self._spotilla = spotilla
        self._state = state
        self._clock = clock
        self._options = options or SyncOptions()

    def run(self, organization_id: int, *, dry_run: bool = False) -> SyncReport:
        """One full cycle; with `dry_run` everything is decided and reported but nothing is written anywhere."""
        settings = self._spotilla.settings(organization_id)
        if settings is None or not settings.enabled:
            return SyncReport(
                organization_id, RunStatus.FAILED, error="the integration is not switched on", dry_run=dry_run
            )
        procountor, spotilla, state = self._procountor, self._spotilla, self._state
        if dry_run:
            procountor, spotilla, state = (
                DryRunProcountor(procountor),
                DryRunSpotilla(spotilla),
                DryRunStateStore(state),
            )
        run_id = None if dry_run else state.start_run(organization_id)
        recorder = RunRecorder(state, run_id, dry_run=dry_run, listener=self._options.on_event)
        ctx = CycleContext(organization_id, settings, procountor, spotilla, state, self._clock, recorder, self._options)
        scope = self._options.run_scope
        with scope(organization_id, run_id or 0) if scope else nullcontext():
            log.info("run started", extra={"dry_run": dry_run})
            status, error = self._flows(ctx)
            if run_id is not None:
                state.finish_run(run_id, status, dict(recorder.counts), error)
            log.info("run finished", extra={"status": str(status), "error": error, **recorder.counts})
        return SyncReport(organization_id, status, run_id, dict(recorder.counts), recorder.events, error, dry_run)

    @staticmethod
    def _flows(ctx: CycleContext) -> tuple[RunStatus, str | None]:
        try:
            sync_products(ctx)
            ctx.customers = {c.id: c for c in ctx.spotilla.customers(ctx.organization_id)}
            pulled = pull_partner_changes(ctx)
            push_customers(ctx, pulled)
            pull_partners(ctx, pulled)
            sync_invoices(ctx)
        except ShutdownRequested:
            failure = getattr(ctx.options.stop, "failure", None)
            if failure:
                return RunStatus.FAILED, failure
            return RunStatus.INTERRUPTED, "the service was asked to stop; the rest is done next run"
        except AuthenticationFailed as exc:
            return RunStatus.FAILED, f"Procountor refused the tenant's credentials: {exc}"
        except IntegrationError as exc:
            return RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug must not leave the run open; the next run starts afresh
            log.exception("run failed unexpectedly")
            return RunStatus.FAILED, f"internal error ({type(exc).__name__}); see the service log"
        return RunStatus.SUCCEEDED, None

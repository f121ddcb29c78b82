"""The sync cycle of one tenant: products → customers out → partners in and their changes → invoices."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass, field

from spotilla_procountor.domain.concurrency import ShutdownRequested
from spotilla_procountor.domain.create_once import CreateOncePipeline, PipelineSettings
from spotilla_procountor.domain.dry_run import DryRunProcountor, DryRunSpotilla, DryRunStateStore
from spotilla_procountor.domain.errors import AuthenticationFailed, IntegrationError, LockLost
from spotilla_procountor.domain.invoicing import InvoiceTerms
from spotilla_procountor.domain.ports import Clock, ProcountorGateway, SpotillaRepository, StateStore
from spotilla_procountor.domain.recorder import RunRecorder
from spotilla_procountor.domain.state import Event, Fence, RunStatus
from spotilla_procountor.domain.sync_context import Cycle, SyncOptions
from spotilla_procountor.domain.sync_customers import pull_partner_changes, pull_partners, push_customers
from spotilla_procountor.domain.sync_invoices import InvoiceInputs, sync_invoices
from spotilla_procountor.domain.sync_products import first_reasons, sync_products

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

    def run(self, organization_id: int, *, fence: Fence | None = None, dry_run: bool = False) -> SyncReport:
        """One full cycle under the tenant's lock (`fence`); with `dry_run` everything is decided and reported but
        nothing is written anywhere, and no lock is needed."""
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
            fence = Fence(organization_id, 0, "dry-run")
        if fence is None or fence.organization_id != organization_id:
            raise ValueError("a run that writes needs the fence of its tenant's run lock")
        run_id = None if dry_run else state.start_run(organization_id, dry_run=dry_run)
        recorder = RunRecorder(state, run_id, dry_run=dry_run, listener=self._options.on_event)
        pipeline = CreateOncePipeline(
            state=state,
            recorder=recorder,
            clock=self._clock,
            fence=fence,
            settings=PipelineSettings(
                workers=self._options.workers, stop=self._options.stop, claim_grace=self._options.claim_grace
            ),
        )
        cycle = Cycle(
            organization_id,
            settings,
            procountor,
            spotilla,
            state,
            self._clock,
            recorder,
            pipeline,
            fence,
            self._options,
        )
        scope = self._options.run_scope
        with scope(organization_id, run_id or 0) if scope else nullcontext():
            log.info("run started", extra={"dry_run": dry_run})
            status, error = self._flows(cycle)
            if status == RunStatus.SUCCEEDED and not dry_run:
                status, error = _still_held(state, fence)
            if run_id is not None:
                state.finish_run(run_id, status, dict(recorder.counts), error)
            level = logging.INFO if status == RunStatus.SUCCEEDED else logging.WARNING
            log.log(level, "run finished", extra={"status": str(status), "error": error, **recorder.counts})
        return SyncReport(organization_id, status, run_id, dict(recorder.counts), recorder.events, error, dry_run)

    @staticmethod
    def _flows(cycle: Cycle) -> tuple[RunStatus, str | None]:  # noqa: PLR0911 - one outcome per kind of end
        try:
            _all_flows(cycle)
        except ShutdownRequested:
            failure = getattr(cycle.options.stop, "failure", None)
            if failure:
                return RunStatus.FAILED, failure
            return RunStatus.INTERRUPTED, "the service was asked to stop; the rest is done next run"
        except LockLost as exc:
            return RunStatus.FAILED, _LOST.format(detail=exc)
        except AuthenticationFailed as exc:
            return RunStatus.FAILED, f"Procountor refused the tenant's credentials: {exc}"
        except IntegrationError as exc:
            return RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug must not leave the run open; the next run starts afresh
            log.exception("run failed unexpectedly")
            return RunStatus.FAILED, f"internal error ({type(exc).__name__}); see the service log"
        return RunStatus.SUCCEEDED, None


_LOST = (
    "the run lost its lock on the tenant ({detail}); it stopped before sending anything more, the items under "
    "way were recorded, and the next run carries on"
)


def _still_held(state: StateStore, fence: Fence) -> tuple[RunStatus, str | None]:
    """A run that did all its work ends SUCCEEDED only if it still held its lock at the end."""
    try:
        held = state.holds(fence)
    except IntegrationError as exc:
        return RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
    return (RunStatus.SUCCEEDED, None) if held else (RunStatus.FAILED, _LOST.format(detail="found when the run ended"))


def _all_flows(cycle: Cycle) -> None:
    """Products → customers out → partners in and their changes → invoices, each fed what the earlier found."""
    org = cycle.organization_id
    products = {p.id: p for p in cycle.spotilla.products(org)}
    product_results = sync_products(cycle, products)
    customers = {c.id: c for c in cycle.spotilla.customers(org)}
    pull = pull_partner_changes(cycle)
    customer_results = push_customers(cycle, customers, pull)
    partner_links = dict(customer_results.linked)
    # Partners of deleted customers are left alone, unless a customer added again has been paired with one.
    ignored = set(customer_results.retired.values()) - set(partner_links.values())
    pull_partners(cycle, customers, partner_links, pull, ignored=ignored)
    inputs = InvoiceInputs(
        settings=cycle.settings,
        customers=customers,
        products=products,
        product_links=product_results.linked,
        product_problems=dict(first_reasons(product_results)),
        partner_links=partner_links,
        customer_problems=customer_results.problems,
        terms=InvoiceTerms(now=cycle.clock.now(), default_payment_term_days=cycle.settings.default_payment_term_days),
    )
    sync_invoices(cycle, inputs)

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
from spotilla_procountor.domain.state import Event, Fence, Outcome, RunFailure, RunStatus
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
    failure: RunFailure | None = None
    """Why a FAILED run failed, for alerts and back-off; None for any other status."""

    @property
    def failed_items(self) -> int:
        return sum(n for key, n in self.counts.items() if key.endswith(f".{Outcome.FAILED}"))


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
            status, error, failure = self._flows(cycle)
            if status == RunStatus.SUCCEEDED and not dry_run:
                status, error, failure = _still_held(state, fence)
            report = SyncReport(
                organization_id, status, run_id, dict(recorder.counts), recorder.events, error, dry_run, failure
            )
            if report.status == RunStatus.SUCCEEDED and report.failed_items:
                report.status, report.error = RunStatus.PARTIAL, _partial(report.failed_items)
            if run_id is not None:
                state.finish_run(run_id, report.status, report.counts, report.error)
            log.log(
                _LEVELS.get(report.status, logging.INFO),
                "run finished",
                extra={"status": str(report.status), "error": report.error, **report.counts},
            )
        return report

    @staticmethod
    def _flows(cycle: Cycle) -> _End:  # noqa: PLR0911 - one outcome per kind of end
        try:
            _all_flows(cycle)
        except ShutdownRequested:
            failure = getattr(cycle.options.stop, "failure", None)
            if failure:
                return RunStatus.FAILED, failure, RunFailure.LOCK_LOST
            return RunStatus.INTERRUPTED, "the service was asked to stop; the rest is done next run", None
        except LockLost as exc:
            return RunStatus.FAILED, _LOST.format(detail=exc), RunFailure.LOCK_LOST
        except AuthenticationFailed as exc:
            return (
                RunStatus.FAILED,
                f"Procountor refused the tenant's credentials: {exc}. The organization's admin should create a new "
                "API key in Procountor and switch the integration on again with it (Settings → Integrations)",
                RunFailure.CREDENTIALS_REFUSED,
            )
        except IntegrationError as exc:
            return RunStatus.FAILED, f"{type(exc).__name__}: {exc}", RunFailure.UNAVAILABLE
        except Exception as exc:  # a bug must not leave the run open; the next run starts afresh
            log.exception("run failed unexpectedly")
            return RunStatus.FAILED, f"internal error ({type(exc).__name__}); see the service log", RunFailure.INTERNAL
        return RunStatus.SUCCEEDED, None, None


_End = tuple[RunStatus, str | None, RunFailure | None]
_LEVELS = {RunStatus.PARTIAL: logging.WARNING, RunStatus.FAILED: logging.ERROR, RunStatus.INTERRUPTED: logging.WARNING}


def _partial(failed: int) -> str:
    return (
        f"{failed} item(s) failed and were not transferred; `spotilla-procountor status` shows each with its reason, "
        "and `retry` sends them again once the cause is fixed"
    )


_LOST = (
    "the run lost its lock on the tenant ({detail}); it stopped before sending anything more, the items under "
    "way were recorded, and the next run carries on"
)


def _still_held(state: StateStore, fence: Fence) -> _End:
    """A run that did all its work ends SUCCEEDED only if it still held its lock at the end."""
    try:
        held = state.holds(fence)
    except IntegrationError as exc:
        return RunStatus.FAILED, f"{type(exc).__name__}: {exc}", RunFailure.UNAVAILABLE
    if held:
        return RunStatus.SUCCEEDED, None, None
    return RunStatus.FAILED, _LOST.format(detail="found when the run ended"), RunFailure.LOCK_LOST


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

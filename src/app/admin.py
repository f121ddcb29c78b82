"""What a tenant's admin and Spotilla's operators do with the integration, apart from HTTP: the use cases behind the
web pages and the JSON API (`/api/v1/organizations/...`).

Every answer is a pydantic model without secrets: the API returns them as they are (its OpenAPI document is made
from them) and the pages render them. Who may ask is decided by the web adapter before it calls in here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from stdnum import iban
from stdnum.exceptions import ValidationError

from spotilla_procountor.adapters.spotilla_sql.health_queries import SqlHealthQueries
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.alerts import RunAlerts
from spotilla_procountor.app.credentials import ApiClient, MissingSecretKey
from spotilla_procountor.app.outcomes import Advice, tenant_health
from spotilla_procountor.app.service import (
    CompanySwitchNeeded,
    CompanyTaken,
    NoApiClient,
    RunUnderWay,
    SyncService,
    TenantNotConfigured,
    TenantRefused,
    TenantService,
)
from spotilla_procountor.domain.errors import (
    AccessDenied,
    AuthenticationFailed,
    IntegrationError,
    RepositoryError,
    TemporarilyUnavailable,
)
from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import (
    SUCCESSFUL_RUNS,
    EntityKind,
    Event,
    Outcome,
    Record,
    RecordState,
    RunStatus,
    RunSummary,
)

log = logging.getLogger("spotilla_procountor.admin")

Environment = Literal["test", "production"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- settings ---------------------------------------------------------------------------------------------------


class Company(_Model):
    """The Procountor company the organization's API key logs in to."""

    id: int
    name: str | None = None
    business_id: str | None = None


class IntegrationView(_Model):
    """An organization's integration settings; never its API key or a client secret."""

    organization_id: int
    organization_name: str = ""
    enabled: bool
    configured: bool = Field(description="Whether the integration was ever switched on (settings exist).")
    environment: Environment | None = None
    policy: TransferPolicy | None = None
    bank_account: str | None = Field(None, description="IBAN, compact (no spaces).")
    tasks_completed_from: date | None = Field(None, description="Tasks completed before this day are not invoiced.")
    company: Company | None = None
    api_key_stored: bool = False
    own_api_client_id: str | None = Field(None, description="The organization's own API client, if it has one.")
    integration_client_id: str | None = Field(
        None, description="The integration's API client id, to give when creating the API key in Procountor."
    )
    alert_emails: list[str] = Field(default_factory=list)


class IntegrationChange(_Model):
    """Switches the integration on, or changes its settings. `api_key` may be left out when changing settings of
    an organization that has one stored; every other field left out keeps its stored value (or its default)."""

    api_key: str | None = Field(None, description="The organization's Procountor API key; never shown back.")
    environment: Environment | None = None
    policy: TransferPolicy | None = None
    bank_account: str | None = Field(None, description="IBAN, spaces allowed; required to switch on.")
    tasks_completed_from: date | None = None
    switch_company: bool = Field(
        False, description="Confirms moving the organization to the Procountor company the new API key belongs to."
    )


class FieldProblem(_Model):
    """One field's problem, in FastAPI's 422 shape (`loc`, `msg`, `type`)."""

    loc: list[str | int]
    msg: str
    type: str


class FieldErrors(ValueError):
    """The change was refused for these fields (answered 422 with `detail` = the problems)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems))
        self.problems = problems


class NotConfigured(LookupError):
    """The organization never switched the integration on (404)."""


class Conflict(RuntimeError):
    """The change cannot be made now or without a confirmation (409); the message says what to do."""


class Unavailable(RuntimeError):
    """Procountor did not answer while checking the credentials, or the service lacks part of its own setup (503);
    nothing was stored."""


# -- items --------------------------------------------------------------------------------------------------------


class ItemState(StrEnum):
    HELD_BACK = "held_back"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"


class ItemKind(StrEnum):
    TASK = "task"
    CUSTOMER = "customer"
    PRODUCT = "product"


class ReasonView(_Model):
    code: str
    message: str = Field(description="A sentence a person can act on (English).")
    params: dict[str, str] = Field(
        default_factory=dict, description="The facts the sentence is made of, to say it in another language."
    )


class ItemView(_Model):
    """A Spotilla item that waits: held back for its data, refused by Procountor, or in doubt (looked up next run)."""

    kind: ItemKind
    spotilla_id: int
    name: str | None = Field(None, description="The task's title, the customer's or product's name, if it exists.")
    state: ItemState
    reasons: list[ReasonView]
    since: datetime | None = Field(None, description="Since when it is in this state.")
    procountor_id: int | None = None
    before_start_day: bool = Field(
        False, description="A task completed before the start day: never invoiced, shown apart."
    )


class RetryAnswer(_Model):
    requeued: int = Field(description="How many items the next run tries again.")
    run: RunRequestAnswer


# -- runs ---------------------------------------------------------------------------------------------------------


class RunRequestOutcome(StrEnum):
    QUEUED = "queued"
    ALREADY_QUEUED = "already_queued"
    NOT_SERVED = "not_served"
    """No scheduler serves runs in this process (the API runs without `run`); the next scheduled run does it."""


class RunRequestAnswer(_Model):
    outcome: RunRequestOutcome
    message: str


class EventView(_Model):
    flow: str
    kind: ItemKind
    spotilla_id: int | None
    name: str | None = None
    outcome: str
    procountor_id: int | None = None
    reasons: list[ReasonView] = Field(default_factory=list)


class RunView(_Model):
    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="`flow.OUTCOME` → how many items.")
    created: int = 0
    updated: int = 0
    held_back: int = 0
    failed: int = 0
    error: str | None = None


class RunDetail(RunView):
    events: list[EventView]


class PreviewView(_Model):
    """What the next run would do (a dry run: nothing was written anywhere)."""

    status: str
    error: str | None = None
    counts: dict[str, int]
    would_create: list[EventView]
    would_update: list[EventView]
    held_back: list[EventView]


# -- status -------------------------------------------------------------------------------------------------------


class ItemCounts(_Model):
    held_back: int = 0
    failed: int = 0
    in_doubt: int = 0
    before_start_day: int = 0
    transferred_tasks: int = 0
    linked_customers: int = 0
    linked_products: int = 0


class StatusView(_Model):
    organization_id: int
    enabled: bool
    last_runs: list[RunView]
    last_success_at: datetime | None = None
    next_run_at: datetime | None = None
    run_queued: bool = False
    counts: ItemCounts
    attention: bool
    reasons: list[str] = Field(description="Why it needs attention, each a sentence; empty when it does not.")


class OrganizationView(_Model):
    organization_id: int
    organization_name: str = ""
    enabled: bool
    company: Company | None = None
    environment: Environment | None = None
    last_run: RunView | None = None
    counts: ItemCounts
    attention: bool
    reasons: list[str]


RetryAnswer.model_rebuild()


# -- the ports it needs beyond the sync's own ------------------------------------------------------------------


class RunRequests(Protocol):
    """The scheduler of the `run` process, as far as the admin pages use it."""

    def request_run(self, organization_id: int) -> bool | None:
        """Queues one run of the tenant now. True: queued; False: one is already queued (rate limit: one queued
        run per tenant); None: the tenant is not scheduled here (switched off, or unknown)."""
        ...

    def next_run_at(self, organization_id: int) -> datetime | None:
        """When the tenant's next scheduled run starts; None when it is not scheduled here."""
        ...

    def queued(self, organization_id: int) -> bool:
        """Whether a run asked for with `request_run` has not started yet."""
        ...


class ItemNames(Protocol):
    def display_names(self, organization_id: int, kind: EntityKind, ids: Iterable[int]) -> dict[int, str]:
        """The task titles, customer or product names of these Spotilla ids (those that still exist)."""
        ...


class Busy(RuntimeError):
    """The same thing is already under way for the organization (429): a preview, a queued run."""


_KINDS = {ItemKind.TASK: EntityKind.TASK, ItemKind.CUSTOMER: EntityKind.CUSTOMER, ItemKind.PRODUCT: EntityKind.PRODUCT}
_ITEM_KIND = {v: k for k, v in _KINDS.items()}
_ITEM_STATES = {
    ItemState.HELD_BACK: (RecordState.HELD_BACK,),
    ItemState.FAILED: (RecordState.FAILED,),
    ItemState.IN_DOUBT: (RecordState.PENDING, RecordState.SENT),
}
_KIND_ORDER = {EntityKind.TASK: 0, EntityKind.CUSTOMER: 1, EntityKind.PRODUCT: 2}
RECENT_RUNS = 5
KEY_HELP = (
    "Create the key in Procountor as a user who may manage the company's settings: Basics → API client keys → "
    "New API key, for the integration's API client {client_id}; then paste the key here."
)


class IntegrationAdmin:
    """The use cases of Settings → Integrations and of the operator overview (see the module's docstring)."""

    def __init__(
        self,
        *,
        tenants: TenantService,
        state: SqlStateStore,
        queries: SqlHealthQueries,
        names: ItemNames,
        sync: SyncService,
        alerts: RunAlerts | None,
        admin_emails: Callable[[], Mapping[int, Sequence[str]]],
        service_client_id: str | None,
        interval: timedelta,
        runs: RunRequests | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._tenants = tenants
        self._state = state
        self._queries = queries
        self._names = names
        self._sync = sync
        self._alerts = alerts
        self._admin_emails = admin_emails
        self._service_client_id = service_client_id
        self._interval = interval
        self._runs = runs
        self._now = now
        self._busy: set[tuple[str, int]] = set()
        self._busy_lock = threading.Lock()

    # -- settings ---------------------------------------------------------------------------------------------------

    def integration(self, organization_id: int) -> IntegrationView:
        """The settings (`configured` false and `enabled` false when never switched on)."""
        name = self._organization(organization_id)
        config = self._state.settings_row(organization_id)
        if config is None:
            return IntegrationView(
                organization_id=organization_id,
                organization_name=name,
                enabled=False,
                configured=False,
                integration_client_id=self._service_client_id,
            )
        return self._view(config)

    def _organization(self, organization_id: int) -> str:
        """The organization's name; NotConfigured (404) when Spotilla has no such organization."""
        name = self._queries.organization_name(organization_id)
        if name is None:
            raise NotConfigured(f"Spotilla has no organization {organization_id}")
        return name

    def _view(self, config: TenantConfig, name: str | None = None) -> IntegrationView:
        company = None
        if config.company_id is not None:
            company = Company(id=config.company_id, name=config.company_name, business_id=config.company_business_id)
        return IntegrationView(
            organization_id=config.organization_id,
            organization_name=name if name is not None else self._organization(config.organization_id),
            enabled=config.enabled,
            configured=True,
            environment=config.environment if config.environment in ("test", "production") else None,
            policy=config.policy,
            bank_account=config.bank_account,
            tasks_completed_from=config.tasks_completed_from,
            company=company,
            api_key_stored=bool(config.api_key_enc),
            own_api_client_id=config.client_id,
            integration_client_id=self._service_client_id,
            alert_emails=list(self._admin_emails().get(config.organization_id, ())),
        )

    def configure(self, organization_id: int, change: IntegrationChange) -> IntegrationView:
        """Switches on or changes; the credentials are checked with Procountor before anything is stored.

        Raises FieldErrors (422: a bad IBAN, a missing or refused API key, ...), Conflict (409: another company's
        key without `switch_company`, a run under way during a switch, ...), Unavailable (503: Procountor or the
        service's own setup)."""
        self._organization(organization_id)
        with self._one_at_a_time("change", organization_id):
            config = self._configure(organization_id, change)
        log.info("integration configured through the web", extra={"organization_id": organization_id})
        return self._view(config)

    def _configure(self, organization_id: int, change: IntegrationChange) -> TenantConfig:
        existing = self._state.settings_row(organization_id)
        bank_account, bank_problem = self._bank_account(change, existing)
        api_key, client, key_problem = self._api_key(change, existing)
        problems = [p for p in (bank_problem, key_problem) if p is not None]
        if problems:
            raise FieldErrors(problems)
        try:
            return self._tenants.enable(
                organization_id,
                api_key,
                client=client,
                environment=change.environment or (existing.environment if existing else "test"),
                policy=change.policy or (existing.policy if existing else TransferPolicy.ALL_COMPLETED),
                bank_account=bank_account,
                tasks_completed_from=change.tasks_completed_from,
                switch_company=change.switch_company,
            )
        except (AuthenticationFailed, AccessDenied) as exc:
            why = f"Procountor refused this API key ({exc}). " + self._key_help(existing)
            raise FieldErrors([_problem("api_key", why, "refused")]) from None
        except TemporarilyUnavailable as exc:
            raise Unavailable(f"Procountor did not answer ({exc}); nothing was stored, try again shortly") from None
        except RepositoryError:
            log.exception("settings not stored: the database failed", extra={"organization_id": organization_id})
            raise Unavailable("the database did not answer; nothing was stored, try again shortly") from None
        except (MissingSecretKey, NoApiClient) as exc:
            raise Unavailable(f"the integration is not fully set up by Spotilla's operators: {exc}") from None
        except TenantRefused as exc:
            raise Conflict(_refusal_for_the_page(exc)) from None
        except ValueError as exc:  # an environment no Procountor answers at (one stored from the command line)
            why = f"{exc}; choose the test or the production environment"
            raise FieldErrors([_problem("environment", why, "value_error")]) from None
        except IntegrationError as exc:
            raise Unavailable(
                f"the credentials could not be checked with Procountor ({exc}); nothing was stored"
            ) from None

    @contextmanager
    def _one_at_a_time(self, what: str, organization_id: int) -> Iterator[None]:
        """Busy (429) while the same request of the organization is under way: each asks Procountor for seconds,
        and a burst of them must not take every thread of the server."""
        with self._busy_lock:
            if (what, organization_id) in self._busy:
                raise Busy(f"a {what} of this organization is already under way; wait for it to finish")
            self._busy.add((what, organization_id))
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy.discard((what, organization_id))

    @staticmethod
    def _bank_account(change: IntegrationChange, existing: TenantConfig | None) -> tuple[str, FieldProblem | None]:
        given = change.bank_account if change.bank_account is not None else (existing and existing.bank_account)
        if not (given or "").strip():
            why = "the organization's bank account (IBAN) is required: Procountor puts it on every invoice"
            return "", _problem("bank_account", why, "missing")
        try:
            return iban.validate(given), None
        except ValidationError as exc:
            return "", _problem("bank_account", f"not a valid IBAN ({exc}); check the account number", "value_error")

    def _api_key(
        self, change: IntegrationChange, existing: TenantConfig | None
    ) -> tuple[str, ApiClient | None, FieldProblem | None]:
        """The key given, else the one stored (with the organization's own API client, if it has one)."""
        given = (change.api_key or "").strip()
        if given and not _printable_text(given):
            why = "the API key holds characters no key has; copy it from Procountor again. " + self._key_help(existing)
            return "", None, _problem("api_key", why, "value_error")
        if given:
            client = None
            if existing is not None and existing.client_id:  # a new key for the organization's own API client
                try:
                    stored = self._tenants.credentials(existing)
                    client = ApiClient(stored.client_id, stored.client_secret)
                except (TenantNotConfigured, ValueError):
                    client = None
            return given, client, None
        if existing is None or not existing.api_key_enc:
            why = "the organization's Procountor API key is required to switch the integration on. " + self._key_help(
                existing
            )
            return "", None, _problem("api_key", why, "missing")
        try:
            stored = self._tenants.credentials(existing)
        except (TenantNotConfigured, ValueError):
            why = "the stored API key cannot be used any more; give the key again. " + self._key_help(existing)
            return "", None, _problem("api_key", why, "unreadable")
        return stored.api_key, ApiClient(stored.client_id, stored.client_secret) if existing.client_id else None, None

    def _key_help(self, existing: TenantConfig | None) -> str:
        """How to create a key, for the API client the organization's key must belong to."""
        client_id = (existing.client_id if existing else None) or self._service_client_id
        return KEY_HELP.format(client_id=client_id or "(ask Spotilla's operators)")

    def switch_off(self, organization_id: int) -> IntegrationView:
        """Switches off; links and records are kept. NotConfigured (404) when never switched on."""
        self._config(organization_id)
        self._tenants.disable(organization_id)
        log.info("integration switched off through the web", extra={"organization_id": organization_id})
        return self.integration(organization_id)

    def _config(self, organization_id: int) -> TenantConfig:
        config = self._state.settings_row(organization_id)
        if config is None:
            raise NotConfigured(f"organization {organization_id} has not switched the Procountor integration on")
        return config

    # -- status -----------------------------------------------------------------------------------------------------

    def status(self, organization_id: int) -> StatusView:
        config = self._config(organization_id)
        recent = self._state.runs(organization_id, limit=RECENT_RUNS)
        counts = self._counts(organization_id)
        last_success = next(iter(self._state.runs(organization_id, limit=1, statuses=SUCCESSFUL_RUNS)), None)
        return StatusView(
            organization_id=organization_id,
            enabled=config.enabled,
            last_runs=[_run_view(r) for r in recent],
            last_success_at=(last_success.finished_at or last_success.started_at) if last_success else None,
            next_run_at=self._next_run(config, recent),
            run_queued=bool(self._runs and self._runs.queued(organization_id)),
            counts=counts,
            **self._attention(config, recent, last_success, counts),
        )

    def _next_run(self, config: TenantConfig, recent: Sequence[RunSummary]) -> datetime | None:
        if not config.enabled:
            return None
        if self._runs is not None:
            scheduled = self._runs.next_run_at(config.organization_id)
            if scheduled is not None:
                return scheduled
        started = [r.started_at for r in recent if not r.dry_run]
        return max(started) + self._interval if started else None

    def _counts(self, organization_id: int) -> ItemCounts:
        raw = self._queries.record_counts(organization_id)

        def n(states: Iterable[RecordState | None], kinds: Iterable[EntityKind] = tuple(EntityKind)) -> int:
            return sum(raw.get((k, s), 0) for k in kinds for s in states)  # type: ignore[arg-type]

        return ItemCounts(
            held_back=n([RecordState.HELD_BACK]),
            failed=n([RecordState.FAILED]),
            in_doubt=n([RecordState.PENDING, RecordState.SENT]),
            before_start_day=n([None]),
            transferred_tasks=n([RecordState.LINKED], [EntityKind.TASK]),
            linked_customers=n([RecordState.LINKED], [EntityKind.CUSTOMER]),
            linked_products=n([RecordState.LINKED], [EntityKind.PRODUCT]),
        )

    def _attention(
        self,
        config: TenantConfig,
        recent: Sequence[RunSummary],
        last_success: RunSummary | None,
        counts: ItemCounts,
    ) -> dict[str, object]:
        if not config.enabled:
            return {"attention": False, "reasons": []}
        latest = next((r for r in recent if r.status != RunStatus.RUNNING and not r.dry_run), None)
        judged = tenant_health(
            config,
            latest=latest,
            last_success=last_success,
            failed_items=counts.failed,
            now=self._now(),
            stale_after=3 * self._interval,
            advice=Advice.PAGE,
        )
        reasons = list(judged.reasons)
        backoff = self._alerts.backoff_reason(config) if self._alerts is not None else None
        if backoff:
            reasons.insert(0, f"Runs are paused, {backoff}")
        if not config.bank_account:
            reasons.append("The organization's bank account (IBAN) is missing; invoices wait until it is set.")
        return {"attention": bool(reasons), "reasons": reasons}

    # -- items ------------------------------------------------------------------------------------------------------

    def items(self, organization_id: int, states: Iterable[ItemState] | None = None) -> list[ItemView]:
        """Items waiting, tasks first, then customers, then products, each by Spotilla id."""
        self._config(organization_id)
        wanted = set(states or ItemState)
        record_states = {s for state in wanted for s in _ITEM_STATES[state]}
        found: list[ItemView] = []
        for kind in sorted(EntityKind, key=_KIND_ORDER.__getitem__):
            records = self._state.records(organization_id, kind, states=record_states)
            names = self._names.display_names(organization_id, kind, records) if records else {}
            found += [_item_view(r, names.get(r.spotilla_id)) for r in sorted(records.values(), key=_by_id)]
        return found

    def retry(self, organization_id: int, kind: ItemKind, spotilla_id: int) -> RetryAnswer:
        """The item is tried again, in a run queued now. NotConfigured (404) when the item does not wait; Conflict
        (409), with nothing changed, when no run can be asked for (switched off, runs paused)."""
        self._runnable(self._config(organization_id))
        entity = _KINDS[kind]
        record = self._state.records(organization_id, entity, [spotilla_id]).get(spotilla_id)
        if record is None or record.state not in (RecordState.HELD_BACK, RecordState.FAILED):
            raise NotConfigured(
                f"{kind.value} {spotilla_id} of organization {organization_id} is not held back or failed; "
                "nothing to try again"
            )
        requeued = self._tenants.retry(organization_id, entity, [spotilla_id])
        log.info("item retried through the web", extra={"organization_id": organization_id, "item": spotilla_id})
        return RetryAnswer(requeued=requeued, run=self._request_run(organization_id, refuse_when_queued=False))

    def retry_failed(self, organization_id: int) -> RetryAnswer:
        """Every failed and held-back item is tried again, in a run queued now (Conflict as for `retry`)."""
        self._runnable(self._config(organization_id))
        requeued = self._tenants.retry(organization_id)
        return RetryAnswer(requeued=requeued, run=self._request_run(organization_id, refuse_when_queued=False))

    # -- runs -------------------------------------------------------------------------------------------------------

    def request_run(self, organization_id: int) -> RunRequestAnswer:
        """Queues a run now; ALREADY_QUEUED when one asked for earlier has not started yet (one per tenant)."""
        return self._request_run(organization_id, refuse_when_queued=True)

    def _runnable(self, config: TenantConfig) -> None:
        """Conflict (409) when a run asked for now would not run: switched off, or paused after refused keys."""
        if not config.enabled:
            raise Conflict("the integration is switched off; switch it on to run it")
        if self._alerts is not None and self._alerts.backoff_reason(config) is not None:
            raise Conflict(
                "runs are paused: Procountor refused the organization's API key in the last runs. Give a new API key "
                "in the settings (it is checked at once), or wait for the next try"
            )

    def _request_run(self, organization_id: int, *, refuse_when_queued: bool) -> RunRequestAnswer:
        self._runnable(self._config(organization_id))
        queued = self._runs.request_run(organization_id) if self._runs is not None else None
        if queued is None:
            return RunRequestAnswer(
                outcome=RunRequestOutcome.NOT_SERVED,
                message="no scheduler serves runs here; the next scheduled run of the service does it",
            )
        if not queued:
            outcome = RunRequestOutcome.ALREADY_QUEUED
            message = "a run is already queued and starts shortly; wait for it to finish"
            if refuse_when_queued:
                return RunRequestAnswer(outcome=outcome, message=message)
            return RunRequestAnswer(outcome=outcome, message="the run already queued does it")
        log.info("run requested through the web", extra={"organization_id": organization_id})
        return RunRequestAnswer(outcome=RunRequestOutcome.QUEUED, message="a run starts now")

    def preview(self, organization_id: int) -> PreviewView:
        """A dry run: what the next run would create, update and hold back; nothing is written anywhere.
        One at a time per organization (Busy otherwise): each reads Procountor within the tenant's rate limit."""
        config = self._config(organization_id)
        if not config.enabled:
            raise Conflict("the integration is switched off; switch it on to preview its next run")
        with self._one_at_a_time("preview", organization_id):
            report = self._sync.sync(organization_id, dry_run=True)
        events = self._event_views(organization_id, report.events)
        return PreviewView(
            status=str(report.status),
            error=report.error,
            counts=dict(report.counts),
            would_create=[e for e in events if e.outcome == Outcome.WOULD_CREATE],
            would_update=[e for e in events if e.outcome == Outcome.WOULD_UPDATE],
            held_back=[e for e in events if e.outcome in (Outcome.HELD_BACK, Outcome.FAILED)],
        )

    def runs(self, organization_id: int, limit: int = 20) -> list[RunView]:
        self._config(organization_id)
        return [_run_view(r) for r in self._state.runs(organization_id, limit=limit)]

    def run(self, organization_id: int, run_id: int) -> RunDetail:
        """One run with its per-item events; NotConfigured (404) when it is not this organization's."""
        self._config(organization_id)
        found = self._state.run(organization_id, run_id)
        if found is None:
            raise NotConfigured(f"organization {organization_id} has no run {run_id}")
        events = self._event_views(organization_id, self._state.run_events(run_id))
        return RunDetail(**_run_view(found).model_dump(), events=events)

    def _event_views(self, organization_id: int, events: Sequence[Event]) -> list[EventView]:
        names: dict[EntityKind, dict[int, str]] = {}
        for kind in EntityKind:
            ids = {e.spotilla_id for e in events if e.kind == kind and e.spotilla_id is not None}
            names[kind] = self._names.display_names(organization_id, kind, ids) if ids else {}
        return [_event_view(e, names[e.kind].get(e.spotilla_id) if e.spotilla_id is not None else None) for e in events]

    # -- the operator overview ----------------------------------------------------------------------------------------

    def organizations(self) -> list[OrganizationView]:
        """Every organization that ever switched the integration on; those needing attention first."""
        found = []
        for config in self._tenants.list():
            status = self.status(config.organization_id)
            view = self._view(config)
            found.append(
                OrganizationView(
                    organization_id=config.organization_id,
                    organization_name=view.organization_name,
                    enabled=config.enabled,
                    company=view.company,
                    environment=view.environment,
                    last_run=status.last_runs[0] if status.last_runs else None,
                    counts=status.counts,
                    attention=status.attention,
                    reasons=status.reasons,
                )
            )
        return sorted(found, key=lambda o: (not o.attention, not o.enabled, o.organization_id))


def _printable_text(text: str) -> bool:
    """No control characters, and encodable (a lone surrogate is valid JSON, yet no key and no stored text)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return text.isprintable()


def _refusal_for_the_page(exc: TenantRefused) -> str:
    """The refusal in the page's words: the command line's `--switch-company` is the form's confirmation, and
    another organization's id is not this admin's business."""
    if isinstance(exc, CompanySwitchNeeded):
        return (
            f"this API key logs in to Procountor {exc.offered}, but the organization is linked to {exc.bound_to}. To "
            "move the organization to the new company, confirm the switch: the old company's links and transfer "
            "records are kept as history and nothing more is sent there"
        )
    if isinstance(exc, CompanyTaken):
        return (
            f"Procountor {exc.company} already serves another organization in Spotilla; each organization needs an "
            "API key of its own Procountor company"
        )
    if isinstance(exc, RunUnderWay):
        return "a run is under way; switch the company once it has finished (in a few minutes)"
    return str(exc)


def _problem(field_name: str, message: str, kind: str) -> FieldProblem:
    return FieldProblem(loc=["body", field_name], msg=message, type=kind)


def _by_id(record: Record) -> int:
    return record.spotilla_id


def _reasons(reasons: Iterable[Reason]) -> list[ReasonView]:
    return [ReasonView(code=str(r.code), message=r.message, params=r.sentence_facts) for r in reasons]


def _item_view(record: Record, name: str | None) -> ItemView:
    state = ItemState.IN_DOUBT if record.in_doubt else ItemState(record.state.value.lower())
    return ItemView(
        kind=_ITEM_KIND[record.kind],
        spotilla_id=record.spotilla_id,
        name=name,
        state=state,
        reasons=_reasons(record.reasons),
        since=record.state_since or record.updated_at,
        procountor_id=record.procountor_id,
        before_start_day=any(r.code == ReasonCode.COMPLETED_BEFORE_START for r in record.reasons),
    )


def _event_view(event: Event, name: str | None) -> EventView:
    reasons: list[ReasonView] = []
    if event.reason_code or event.message:
        reasons = [ReasonView(code=event.reason_code or "", message=event.message or "")]
    return EventView(
        flow=str(event.flow),
        kind=_ITEM_KIND[event.kind],
        spotilla_id=event.spotilla_id,
        name=name,
        outcome=str(event.outcome),
        procountor_id=event.procountor_id if (event.procountor_id or 0) > 0 else None,  # a dry run's stand-ins are < 0
        reasons=reasons,
    )


def _run_view(run: RunSummary) -> RunView:
    totals: dict[str, int] = {}
    for key, n in run.counts.items():
        outcome = key.split(".", 1)[-1]
        totals[outcome] = totals.get(outcome, 0) + n
    return RunView(
        id=run.id,
        status=str(run.status),
        started_at=run.started_at,
        finished_at=run.finished_at,
        counts=dict(run.counts),
        created=sum(totals.get(o, 0) for o in ("CREATED", "LINKED", "ADOPTED")),
        updated=totals.get("UPDATED", 0),
        held_back=totals.get("HELD_BACK", 0),
        failed=totals.get("FAILED", 0),
        error=run.error,
    )

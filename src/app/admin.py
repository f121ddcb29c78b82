"""What a tenant's admin and Spotilla's operators do with the integration, apart from HTTP: the use cases behind the
web pages and the JSON API (`/api/v1/organizations/...`).

Every answer is a pydantic model without secrets: the API returns them as they are (its OpenAPI document is made
from them) and the pages render them. Who may ask is decided by the web adapter before it calls in here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.state import EntityKind

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
    bank_account: str | None = Field(None, description="IBAN; spaces allowed. An empty string removes it.")
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


class ProcountorUnreachable(RuntimeError):
    """Procountor did not answer while checking the credentials (503); nothing was stored."""


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
    message: str = Field(description="A sentence a person can act on.")


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


class IntegrationAdmin:
    """The use cases of Settings → Integrations and of the operator overview (see the module's docstring)."""

    def integration(self, organization_id: int) -> IntegrationView:
        """The settings (`configured` false and `enabled` false when never switched on)."""
        raise NotImplementedError

    def configure(self, organization_id: int, change: IntegrationChange) -> IntegrationView:
        """Switches on or changes; the credentials are checked with Procountor before anything is stored.

        Raises FieldErrors (422: a bad IBAN, a missing or refused API key, ...), Conflict (409: another company's
        key without `switch_company`, a run under way during a switch, ...), ProcountorUnreachable (503)."""
        raise NotImplementedError

    def switch_off(self, organization_id: int) -> IntegrationView:
        """Switches off; links and records are kept. NotConfigured (404) when never switched on."""
        raise NotImplementedError

    def status(self, organization_id: int) -> StatusView:
        raise NotImplementedError

    def items(self, organization_id: int, states: Iterable[ItemState] | None = None) -> list[ItemView]:
        """Items waiting, tasks first, then customers, then products, each by Spotilla id."""
        raise NotImplementedError

    def retry(self, organization_id: int, kind: ItemKind, spotilla_id: int) -> RetryAnswer:
        """The item is tried again, in a run queued now. NotConfigured (404) when the item is not waiting."""
        raise NotImplementedError

    def retry_failed(self, organization_id: int) -> RetryAnswer:
        """Every failed and held-back item is tried again, in a run queued now."""
        raise NotImplementedError

    def request_run(self, organization_id: int) -> RunRequestAnswer:
        raise NotImplementedError

    def preview(self, organization_id: int) -> PreviewView:
        """A dry run: what the next run would create, update and hold back; nothing is written anywhere."""
        raise NotImplementedError

    def runs(self, organization_id: int, limit: int = 20) -> list[RunView]:
        raise NotImplementedError

    def run(self, organization_id: int, run_id: int) -> RunDetail:
        """One run with its per-item events; NotConfigured (404) when it is not this organization's."""
        raise NotImplementedError

    def organizations(self) -> list[OrganizationView]:
        """Every organization that ever switched the integration on; those needing attention first."""
        raise NotImplementedError

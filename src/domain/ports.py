"""Ports: what the sync rules need from the outside world, as structural Protocols."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from spotilla_procountor.domain.model import Customer, CustomerFields, IntegrationSettings, Product, Task
from spotilla_procountor.domain.procountor import (
    CompanyIdentity,
    InvoiceDraft,
    InvoiceRef,
    NewPartner,
    NewProduct,
    Partner,
    ProcountorProduct,
)
from spotilla_procountor.domain.reasons import Reason
from spotilla_procountor.domain.state import (
    EntityKind,
    Event,
    Fence,
    PartnerMirrorEntry,
    Record,
    RecordState,
    RunStatus,
    RunSummary,
)


class Clock(Protocol):
    """Tells the time; timezone-aware UTC."""

    def now(self) -> datetime: ...


class ProcountorGateway(Protocol):
    """One tenant's Procountor company. Raises only `spotilla_procountor.domain.errors.ProcountorError`s.

    Creates whose answer is lost raise `OutcomeUnknown` and are never re-sent blindly: the caller looks the
    object up (by external key, business ID or product code) before creating again.
    """

    def vat_percentages(self) -> frozenset[Decimal]:
        """VAT percentages in use for the company's sales."""
        ...

    def list_products(self) -> Iterator[ProcountorProduct]:
        """Every sales product, page by page."""
        ...

    def create_product(self, product: NewProduct) -> ProcountorProduct:
        """Creates a sales product in the product register."""
        ...

    def procountor_now(self) -> datetime | None:
        """Procountor's own current time, never ahead of it, as its answers tell it; None when it does not say."""
        ...

    def list_partners(self, *, changed_since: datetime | None = None) -> Iterator[Partner]:
        """CUSTOMER partners (basic info, `complete=False`), all or those changed since a moment."""
        ...

    def get_partners(self, ids: Sequence[int]) -> list[Partner]:
        """Full details of partners, fetched in batches; unknown ids are left out."""
        ...

    def find_partners_by_business_id(self, business_id: str) -> list[Partner]:
        """CUSTOMER partners whose business ID is exactly this one (basic info)."""
        ...

    def create_partner(self, partner: NewPartner) -> Partner:
        """Creates a business partner of type CUSTOMER."""
        ...

    def create_invoice(self, draft: InvoiceDraft) -> InvoiceRef:
        """Creates a sales invoice in status UNFINISHED; never approves or sends it."""
        ...

    def find_invoices_by_key(self, key: str) -> list[InvoiceRef]:
        """Invoices whose external key (originalInvoiceNumber) is exactly `key`."""
        ...

    def company(self) -> CompanyIdentity:
        """The company the credentials log in to (id, name, business ID)."""
        ...


class SpotillaRepository(Protocol):
    """Spotilla's registers as one tenant's data. Raises only `RepositoryError`."""

    def settings(self, organization_id: int) -> IntegrationSettings | None:
        """The tenant's integration settings (check `enabled`); None when the tenant never set it up."""
        ...

    def products(self, organization_id: int, ids: Iterable[int] | None = None) -> list[Product]:
        """Products of the tenant (all, or those with the given ids)."""
        ...

    def customers(self, organization_id: int, ids: Iterable[int] | None = None) -> list[Customer]:
        """Customers of the tenant (all, or those with the given ids)."""
        ...

    def tasks_awaiting_invoice(self, organization_id: int) -> list[Task]:
        """COMPLETED tasks (with their task products) that have no created invoice yet."""
        ...

    def add_customer(self, organization_id: int, fields: CustomerFields) -> int:
        """Creates a Spotilla customer from a Procountor partner; returns its id."""
        ...

    def update_customer(self, organization_id: int, customer_id: int, fields: CustomerFields) -> None:
        """Overwrites the Procountor-owned fields of a linked customer."""
        ...

    def display_names(self, organization_id: int, kind: EntityKind, ids: Iterable[int]) -> dict[int, str]:
        """The names people know the tenant's items by (task titles, customer and product names), by Spotilla id;
        ids that are not the tenant's items of that kind, and blank names, are left out."""
        ...


class StateStore(Protocol):
    """The integration's own tables: records, partner mirror, run log.

    Every write is durable when the call returns, so it happens before the next external call; inside
    `together()` the calling thread's writes are durable when the block ends instead.
    """

    def together(self) -> AbstractContextManager[None]:
        """Commits the writes this thread makes in the block as one unit when it ends, none if it raises.

        For an item's outcome and its run-log event, which belong together; never around an external call
        whose preceding write must be durable first.
        """
        ...

    def records(
        self,
        organization_id: int,
        kind: EntityKind,
        spotilla_ids: Iterable[int] | None = None,
        *,
        states: Iterable[RecordState] | None = None,
    ) -> Mapping[int, Record]:
        """Records of a kind by Spotilla id: all, or those of the given ids, or those in the given states."""
        ...

    def claim(self, fence: Fence, record: Record) -> Record:
        """Stores `record` (state PENDING) before its create is sent, only while `fence` still holds the lock.

        Commits on its own, never inside `together()`. Returns the record as stored (with its claim's epoch and
        time). Raises `LockLost`, storing nothing, when the fence's epoch is no longer the tenant's newest or its
        lock is no longer held: another run may be under way, and this one must stop before sending anything.
        """
        ...

    def holds(self, fence: Fence) -> bool:
        """Whether the fence still holds its tenant's lock (as a claim would find it)."""
        ...

    def save_record(self, record: Record, *, fence: Fence | None = None) -> None:
        """Stores or replaces the record of (organization, kind, Spotilla id): an answer's outcome or a hold-back.

        A Procountor id already paired with another item of the same kind raises `RecordConflict`. With `fence`,
        only while it still holds the tenant's lock (else `LockLost`, nothing stored; inside `together()` the whole
        block is refused): a run that lost its lock cannot overwrite what the next run recorded since.
        """
        ...

    def release(
        self, organization_id: int, kind: EntityKind, procountor_id: int, reason: Reason, *, fence: Fence | None = None
    ) -> None:
        """Another item is now paired with this Procountor id (Procountor reuses ids after it lost data): the
        records still holding it let it go. A product or customer waits to be found again or created (`reason`);
        a task stays transferred, its invoice id unknown."""
        ...

    def partner_mirror(self, organization_id: int) -> Mapping[int, PartnerMirrorEntry]:
        """Procountor partners seen so far, by partner id."""
        ...

    def remember_partners(self, organization_id: int, entries: Iterable[PartnerMirrorEntry]) -> None:
        """Adds or refreshes partners in the mirror."""
        ...

    def forget_partners(self, organization_id: int, partner_ids: Iterable[int]) -> None:
        """Drops partners from the mirror (Procountor no longer has them)."""
        ...

    def partner_watermark(self, organization_id: int) -> datetime | None:
        """Newest partner version seen in Procountor's own clock; the next pull starts a little before it."""
        ...

    def set_partner_watermark(self, organization_id: int, moment: datetime) -> None: ...

    def start_run(self, organization_id: int, *, dry_run: bool = False) -> int:
        """Opens a run in the run log; returns its id. The caller holds the tenant's run lock, so a run of the
        tenant still marked RUNNING was abandoned by a process that died: it is closed as INTERRUPTED."""
        ...

    def record_event(self, run_id: int, event: Event) -> None:
        """Appends one item's outcome to a run."""
        ...

    def finish_run(self, run_id: int, status: RunStatus, counts: Mapping[str, int], error: str | None = None) -> None:
        """Closes a run with its status and counts."""
        ...

    def runs(
        self, organization_id: int, limit: int = 10, *, statuses: Iterable[RunStatus] | None = None
    ) -> list[RunSummary]:
        """The newest runs of a tenant (only those ending in `statuses`, when given), newest first."""
        ...

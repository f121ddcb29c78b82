"""Dry run: the ports wrapped so that reads go through and writes stay in memory, never reaching anyone."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from spotilla_procountor.domain.model import Customer, CustomerFields, IntegrationSettings, Product, Task
from spotilla_procountor.domain.ports import ProcountorGateway, SpotillaRepository, StateStore
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

_made_up_ids = itertools.count(-1, -1)  # negative: never a real id on either side


class DryRunProcountor:
    """Reads Procountor; 'creates' return made-up objects with negative ids."""

    def __init__(self, inner: ProcountorGateway) -> None:
        self._inner = inner

    def vat_percentages(self) -> frozenset[Decimal]:
        return self._inner.vat_percentages()

    def list_products(self) -> Iterator[ProcountorProduct]:
        return self._inner.list_products()

    def create_product(self, product: NewProduct) -> ProcountorProduct:
        return ProcountorProduct(next(_made_up_ids), product.name, product.code, product.unit, product.price)

    def procountor_now(self) -> datetime | None:
        return self._inner.procountor_now()

    def list_partners(self, *, changed_since: datetime | None = None) -> Iterator[Partner]:
        return self._inner.list_partners(changed_since=changed_since)

    def get_partners(self, ids: Sequence[int]) -> list[Partner]:
        return self._inner.get_partners(ids)

    def find_partners_by_business_id(self, business_id: str) -> list[Partner]:
        return self._inner.find_partners_by_business_id(business_id)

    def create_partner(self, partner: NewPartner) -> Partner:
        return Partner(next(_made_up_ids), partner.name, "CUSTOMER", partner.business_id)

    def create_invoice(self, draft: InvoiceDraft) -> InvoiceRef:
        return InvoiceRef(next(_made_up_ids), "UNFINISHED", draft.external_key, draft.partner_id)

    def find_invoices_by_key(self, key: str) -> list[InvoiceRef]:
        return self._inner.find_invoices_by_key(key)

    def company(self) -> CompanyIdentity:
        return self._inner.company()


class DryRunSpotilla:
    """Reads Spotilla; customer writes are dropped."""

    def __init__(self, inner: SpotillaRepository) -> None:
        self._inner = inner

    def settings(self, organization_id: int) -> IntegrationSettings | None:
        return self._inner.settings(organization_id)

    def products(self, organization_id: int, ids: Iterable[int] | None = None) -> list[Product]:
        return self._inner.products(organization_id, ids)

    def customers(self, organization_id: int, ids: Iterable[int] | None = None) -> list[Customer]:
        return self._inner.customers(organization_id, ids)

    def tasks_awaiting_invoice(self, organization_id: int) -> list[Task]:
        return self._inner.tasks_awaiting_invoice(organization_id)

    def display_names(self, organization_id: int, kind: EntityKind, ids: Iterable[int]) -> dict[int, str]:
        return self._inner.display_names(organization_id, kind, ids)

    def add_customer(self, organization_id: int, fields: CustomerFields) -> int:
        return next(_made_up_ids)

    def update_customer(self, organization_id: int, customer_id: int, fields: CustomerFields) -> None:
        return None


class DryRunStateStore:
    """Reads the real state; writes land in an overlay that is thrown away with the run."""

    def __init__(self, inner: StateStore) -> None:
        self._inner = inner
        self._records: dict[tuple[EntityKind, int], Record] = {}

    @contextmanager
    def together(self) -> Iterator[None]:
        yield  # the overlay is thrown away anyway

    def records(
        self,
        organization_id: int,
        kind: EntityKind,
        spotilla_ids: Iterable[int] | None = None,
        *,
        states: Iterable[RecordState] | None = None,
    ) -> Mapping[int, Record]:
        in_states = None if states is None else set(states)
        wanted = None if spotilla_ids is None else set(spotilla_ids)
        merged = dict(self._inner.records(organization_id, kind, wanted, states=in_states))
        for (k, sid), record in self._records.items():
            if k != kind or (wanted is not None and sid not in wanted):
                continue
            if in_states is None or record.state in in_states:
                merged[sid] = record
            else:
                merged.pop(sid, None)
        return merged

    def claim(self, fence: Fence, record: Record) -> Record:
        self._records[(record.kind, record.spotilla_id)] = record
        return record

    def holds(self, fence: Fence) -> bool:
        return True

    def save_record(self, record: Record, *, fence: Fence | None = None) -> None:
        self._records[(record.kind, record.spotilla_id)] = record

    def partner_mirror(self, organization_id: int) -> Mapping[int, PartnerMirrorEntry]:
        return self._inner.partner_mirror(organization_id)

    def remember_partners(self, organization_id: int, entries: Iterable[PartnerMirrorEntry]) -> None:
        return None

    def forget_partners(self, organization_id: int, partner_ids: Iterable[int]) -> None:
        return None

    def release(
        self, organization_id: int, kind: EntityKind, procountor_id: int, reason: Reason, *, fence: Fence | None = None
    ) -> None:
        return None

    def partner_watermark(self, organization_id: int) -> datetime | None:
        return self._inner.partner_watermark(organization_id)

    def set_partner_watermark(self, organization_id: int, moment: datetime) -> None:
        return None

    def start_run(self, organization_id: int, *, dry_run: bool = False) -> int:
        return 0

    def record_event(self, run_id: int, event: Event) -> None:
        return None

    def finish_run(self, run_id: int, status: RunStatus, counts: Mapping[str, int], error: str | None = None) -> None:
        return None

    def runs(
        self, organization_id: int, limit: int = 10, *, statuses: Iterable[RunStatus] | None = None
    ) -> list[RunSummary]:
        return self._inner.runs(organization_id, limit, statuses=statuses)

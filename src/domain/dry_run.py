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
    InvoiceDraft,
    InvoiceRef,
    NewPartner,
    NewProduct,
    Partner,
    ProcountorProduct,
)
from spotilla_procountor.domain.state import (
    EntityKind,
    Event,
    Link,
    PartnerMirrorEntry,
    RunStatus,
    RunSummary,
    TransferRecord,
    TransferState,
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

    def add_customer(self, organization_id: int, fields: CustomerFields) -> int:
        return next(_made_up_ids)

    def update_customer(self, organization_id: int, customer_id: int, fields: CustomerFields) -> None:
        return None


class DryRunStateStore:
    """Reads the real state; writes land in an overlay that is thrown away with the run."""

    def __init__(self, inner: StateStore) -> None:
        self._inner = inner
        self._links: dict[tuple[EntityKind, int], Link] = {}
        self._transfers: dict[int, TransferRecord] = {}

    @contextmanager
    def together(self) -> Iterator[None]:
        yield  # the overlay is thrown away anyway

    def links(self, organization_id: int, kind: EntityKind) -> Mapping[int, Link]:
        merged = dict(self._inner.links(organization_id, kind))
        merged.update({sid: link for (k, sid), link in self._links.items() if k == kind})
        return merged

    def save_link(self, link: Link) -> None:
        self._links[(link.kind, link.spotilla_id)] = link

    def transfers(
        self,
        organization_id: int,
        task_ids: Iterable[int] | None = None,
        *,
        states: Iterable[TransferState] | None = None,
    ) -> Mapping[int, TransferRecord]:
        merged = dict(self._inner.transfers(organization_id, task_ids, states=states))
        wanted = None if task_ids is None else set(task_ids)
        in_states = None if states is None else set(states)
        merged.update(
            {
                t: r
                for t, r in self._transfers.items()
                if (wanted is None or t in wanted) and (in_states is None or r.state in in_states)
            }
        )
        return merged

    def save_transfer(self, record: TransferRecord) -> None:
        self._transfers[record.task_id] = record

    def partner_mirror(self, organization_id: int) -> Mapping[int, PartnerMirrorEntry]:
        return self._inner.partner_mirror(organization_id)

    def remember_partners(self, organization_id: int, entries: Iterable[PartnerMirrorEntry]) -> None:
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

    def runs(self, organization_id: int, limit: int = 10) -> list[RunSummary]:
        return self._inner.runs(organization_id, limit)

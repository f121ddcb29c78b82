"""Pairings Procountor no longer knows: found by a refused invoice, checked with Procountor, then let go of.

A partner or product can vanish from under a pairing (a company that lost data, an object removed by hand). An
invoice that names it is refused; without this every later invoice of that customer or product would be refused
for good. So the invoices refused for such a reason name what they referred to; whatever Procountor confirms it no
longer has is unpaired (its record waits, its partner leaves the mirror), and the next run finds the object again
(by business ID or code) or creates it once, then sends the refused invoices again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from spotilla_procountor.domain.errors import ProcountorError
from spotilla_procountor.domain.procountor import InvoiceDraft
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Flow, Outcome, RecordState
from spotilla_procountor.domain.sync_context import Cycle

_ROW_PRODUCT = re.compile(r"invoiceRows\[(\d+)\]\.product")


@dataclass
class MissingReferences:
    """What refused invoices pointed at that Procountor may no longer have, and which tasks they were."""

    partners: set[int] = field(default_factory=set)
    products: set[int] = field(default_factory=set)
    tasks: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, task_id: int, draft: InvoiceDraft | None, error: ProcountorError) -> None:
        """Reads the refusal for references it may be about: the partner, or a row's product.

        The exact wording of a refusal for a missing reference is UNCONFIRMED (the fake answers `partnerId` or
        `invoiceRows[i].productId`), so any mention of the partner or of a product makes it a suspect; nothing is
        let go of before Procountor confirms it does not have the object.
        """
        if draft is None:
            return
        partners: set[int] = set()
        products: set[int | None] = set()
        for field_name, message in getattr(error, "errors", None) or [(None, str(error))]:
            said = f"{field_name or ''} {message}".lower()
            if "partner" in said:
                partners.add(draft.partner_id)
            if (row := _ROW_PRODUCT.search(field_name or "")) and int(row[1]) < len(draft.rows):
                products.add(draft.rows[int(row[1])].product_id)
            elif "product" in said:
                products |= {r.product_id for r in draft.rows}
        products.discard(None)
        if partners or products:
            with self._lock:
                self.partners |= partners
                self.products |= {p for p in products if p is not None}
                self.tasks.add(task_id)


def let_go_of_missing(cycle: Cycle, missing: MissingReferences) -> None:
    """Unpairs what Procountor confirms it no longer has; the refused tasks are tried again next run."""
    gone_partners: set[int] = set()
    if missing.partners:
        there = {p.id for p in cycle.procountor.get_partners(sorted(missing.partners))}
        # A batch read may leave out every id when one is unknown (UNCONFIRMED): each absent one is asked alone.
        gone_partners = {pid for pid in missing.partners - there if not cycle.procountor.get_partners([pid])}
    gone_products: set[int] = set()
    if missing.products:
        gone_products = missing.products - {p.id for p in cycle.procountor.list_products()}
    if not (gone_partners or gone_products):
        return
    with cycle.state.together():
        _unpair(cycle, EntityKind.CUSTOMER, Flow.CUSTOMERS_OUT, gone_partners, "partner")  # fenced writes
        _unpair(cycle, EntityKind.PRODUCT, Flow.PRODUCTS, gone_products, "product")
        cycle.state.forget_partners(cycle.organization_id, gone_partners)
        tasks = cycle.state.records(cycle.organization_id, EntityKind.TASK, missing.tasks)
        for record in tasks.values():
            if record.state == RecordState.FAILED:  # its data did not change, but what it points at will
                cycle.state.save_record(replace(record, fingerprint=None, updated_at=None), fence=cycle.fence)


def _unpair(cycle: Cycle, kind: EntityKind, flow: Flow, gone: Iterable[int], what: str) -> None:
    gone = set(gone)
    if not gone:
        return
    for record in cycle.state.records(cycle.organization_id, kind, states=[RecordState.LINKED]).values():
        if record.procountor_id not in gone:
            continue
        reason = Reason.of(ReasonCode.GONE_IN_PROCOUNTOR, what=what, procountor_id=record.procountor_id)
        cycle.state.save_record(
            replace(record, state=RecordState.HELD_BACK, procountor_id=None, fingerprint=None, reasons=(reason,)),
            fence=cycle.fence,
        )
        cycle.recorder.record(flow, kind, record.spotilla_id, Outcome.HELD_BACK, reasons=[reason])

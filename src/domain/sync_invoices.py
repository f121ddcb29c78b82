"""Flows 3 and 4: each eligible completed task becomes exactly one UNFINISHED sales invoice in Procountor.

Exactly once without idempotency keys on Procountor's side: the task's deterministic key travels as
originalInvoiceNumber, and the create-once pipeline claims the task's record before the create is sent and looks
the key up in Procountor before anything left in doubt is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from spotilla_procountor.domain.create_once import Action, Create, HoldBack, Results, unchanged_refusal
from spotilla_procountor.domain.eligibility import TaskContext, brief, reasons_held_back
from spotilla_procountor.domain.errors import OutcomeUnknown, ProcountorError
from spotilla_procountor.domain.invoicing import InvoiceTerms, draft_invoice
from spotilla_procountor.domain.keys import fingerprint, invoice_key
from spotilla_procountor.domain.model import Customer, IntegrationSettings, Product, Task
from spotilla_procountor.domain.ports import ProcountorGateway
from spotilla_procountor.domain.procountor import InvoiceDraft
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.relink import MissingReferences, let_go_of_missing
from spotilla_procountor.domain.state import OPEN, EntityKind, Flow, Record
from spotilla_procountor.domain.sync_context import Cycle

log = logging.getLogger(__name__)


class InvoiceObjects:
    """Sales invoices for the create-once pipeline: found again by the task's key (originalInvoiceNumber)."""

    kind = EntityKind.TASK
    flow = Flow.INVOICES

    def __init__(self, organization_id: int, procountor: ProcountorGateway) -> None:
        self._organization_id = organization_id
        self._procountor = procountor
        self._sending: dict[str, InvoiceDraft] = {}
        self.missing = MissingReferences()
        """Partners and products refused invoices pointed at, which Procountor may no longer have."""

    def send(self, payload: InvoiceDraft) -> int:
        self._sending[payload.external_key] = payload  # kept only while refused, to read the refusal against
        invoice_id = self._procountor.create_invoice(payload).id
        self._sending.pop(payload.external_key, None)
        return invoice_id

    def look_up(self, spotilla_id: int, payload: InvoiceDraft | None) -> int | None:
        found = self._procountor.find_invoices_by_key(invoice_key(self._organization_id, spotilla_id))
        return min(ref.id for ref in found) if found else None

    def refused(self, spotilla_id: int, error: ProcountorError) -> Reason:
        draft = self._sending.pop(invoice_key(self._organization_id, spotilla_id), None)
        self.missing.note(spotilla_id, draft, error)
        return Reason.of(ReasonCode.REJECTED_BY_PROCOUNTOR, detail=str(error))

    def no_answer(self, spotilla_id: int, error: OutcomeUnknown) -> Reason:
        self._sending.pop(invoice_key(self._organization_id, spotilla_id), None)
        return Reason.of(ReasonCode.NO_ANSWER, what="The invoice", detail=str(error))

    def created(self, payload: InvoiceDraft, procountor_id: int) -> None:
        return None


@dataclass(frozen=True)
class InvoiceInputs:
    """What the invoices are made from: Spotilla's registers and what the earlier flows paired or held back."""

    settings: IntegrationSettings
    customers: Mapping[int, Customer]
    products: Mapping[int, Product]
    product_links: Mapping[int, int]
    product_problems: Mapping[int, Reason]
    partner_links: Mapping[int, int]
    customer_problems: Mapping[int, tuple[Reason, ...]]
    terms: InvoiceTerms


def task_fingerprint(task: Task, inputs: InvoiceInputs) -> str:
    """Digest of everything the invoice is made from; a refused task is retried only when it changes."""
    customer = inputs.customers.get(task.customer_id or -1)
    used = [(tp.product_id, tp.quantity, inputs.products.get(tp.product_id)) for tp in task.products]
    return fingerprint(task.status, task.order_number, task.completed_at, customer, used)


def _reasons(task: Task, inputs: InvoiceInputs) -> list[Reason]:
    customer = inputs.customers.get(task.customer_id) if task.customer_id is not None else None
    context = TaskContext(
        customer=customer,
        products=inputs.products,
        settings=inputs.settings,
        product_problems=inputs.product_problems,
        now=inputs.terms.now,
    )
    reasons = reasons_held_back(task, context)
    if customer is not None and not reasons and customer.id not in inputs.partner_links:
        reasons = [brief(r) for r in inputs.customer_problems.get(customer.id, ())] or [
            Reason.of(ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR, detail="it is not linked yet")
        ]
    return reasons


def _draft(task: Task, inputs: InvoiceInputs) -> InvoiceDraft:
    customer = inputs.customers[task.customer_id]  # type: ignore[index]
    return draft_invoice(
        task,
        customer,
        inputs.products,
        partner_id=inputs.partner_links[customer.id],
        product_links=inputs.product_links,
        terms=inputs.terms,
    )


_GONE = Reason.of(ReasonCode.TASK_NOT_COMPLETED, status="reopened, cancelled or deleted")


def plan_invoices(
    tasks: list[Task], records: Mapping[int, Record], inputs: InvoiceInputs
) -> list[Action[InvoiceDraft]]:
    """An invoice for each eligible task, every reason for the others, and a settling for creates left in doubt
    whose task no longer awaits an invoice (reopened, cancelled, deleted): adopted if Procountor has it."""
    awaiting = {t.id for t in tasks}
    actions: list[Action[InvoiceDraft]] = [
        HoldBack(r.spotilla_id, (_GONE,), r.fingerprint)
        for r in records.values()
        if r.in_doubt and r.spotilla_id not in awaiting
    ]
    for task in tasks:
        action = _planned(task, records.get(task.id), inputs)
        if action is not None:
            actions.append(action)
    return actions


def _planned(task: Task, record: Record | None, inputs: InvoiceInputs) -> Action[InvoiceDraft] | None:
    """One task judged and, when eligible, drafted; anything unforeseen holds back this task only."""
    fp = ""
    try:
        fp = task_fingerprint(task, inputs)
        if unchanged_refusal(record, fp):
            return None  # Procountor refused exactly this data; it is tried again once the data changes
        reasons = _reasons(task, inputs)
        return HoldBack(task.id, tuple(reasons), fp) if reasons else Create(task.id, _draft(task, inputs), fp)
    except Exception as exc:  # one task's surprise must not stop the tenant's other invoices
        log.exception("task %s could not be judged or drafted; it is held back", task.id)
        return HoldBack(task.id, (Reason.of(ReasonCode.INTERNAL_ERROR, error=type(exc).__name__),), fp)


def sync_invoices(cycle: Cycle, inputs: InvoiceInputs) -> Results:
    """Judges every task awaiting an invoice; transfers the eligible ones, notes why the others wait."""
    tasks = cycle.spotilla.tasks_awaiting_invoice(cycle.organization_id)
    # Every record not yet paired, in one read: the tasks awaiting an invoice are among them, and so is any
    # record left in doubt whose task has since stopped awaiting one.
    records = cycle.state.records(cycle.organization_id, EntityKind.TASK, states=OPEN)
    actions = plan_invoices(tasks, records, inputs)
    objects = InvoiceObjects(cycle.organization_id, cycle.procountor)
    results = cycle.pipeline.run(objects, actions, records)
    let_go_of_missing(cycle, objects.missing)
    return results

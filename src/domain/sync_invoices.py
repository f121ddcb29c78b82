"""Flows 3 and 4: each eligible completed task becomes exactly one UNFINISHED sales invoice in Procountor.

Exactly once without idempotency keys on Procountor's side: a transfer record with the task's deterministic
key is stored *before* the create is sent; the key travels as originalInvoiceNumber; a record left PENDING or
SENT (crash, timeout, lost answer) is resolved by looking the key up in Procountor before anything is re-sent.
"""

from __future__ import annotations

from dataclasses import replace

from spotilla_procountor.domain.concurrency import for_each
from spotilla_procountor.domain.eligibility import TaskContext, reasons_held_back
from spotilla_procountor.domain.errors import OutcomeUnknown, ProcountorRejected
from spotilla_procountor.domain.invoicing import InvoiceTerms, draft_invoice
from spotilla_procountor.domain.keys import fingerprint, invoice_key
from spotilla_procountor.domain.model import Task
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Outcome, TransferRecord, TransferState
from spotilla_procountor.domain.sync_context import CycleContext

FLOW = "invoices"
_IN_DOUBT = (TransferState.PENDING, TransferState.SENT)
_OPEN = (TransferState.PENDING, TransferState.SENT, TransferState.HELD_BACK, TransferState.FAILED)


def _task_fingerprint(ctx: CycleContext, task: Task) -> str:
    """Digest of everything the invoice is made from; a refused task is retried only when it changes."""
    customer = ctx.customers.get(task.customer_id or -1)
    used = [(tp.product_id, tp.quantity, ctx.products.get(tp.product_id)) for tp in task.products]
    return fingerprint(task.status, task.order_number, task.completed_at, customer, used)


def _reasons(ctx: CycleContext, task: Task, record: TransferRecord | None) -> list[Reason]:
    customer = ctx.customers.get(task.customer_id) if task.customer_id is not None else None
    context = TaskContext(
        customer=customer,
        products=ctx.products,
        settings=ctx.settings,
        invoice_id=record.invoice_id if record and record.state == TransferState.CREATED else None,
        product_problems=ctx.product_problems,
    )
    reasons = reasons_held_back(task, context)
    if customer is not None and not reasons and customer.id not in ctx.partner_links:
        reasons = ctx.customer_problems.get(customer.id) or [
            Reason.of(ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR, detail="it is not linked yet")
        ]
    return reasons


def _save(ctx: CycleContext, record: TransferRecord) -> TransferRecord:
    record = replace(record, updated_at=ctx.clock.now())
    ctx.state.save_transfer(record)
    return record


def _hold_back(ctx: CycleContext, task: Task, record: TransferRecord | None, reasons: list[Reason], fp: str) -> None:
    if record is None:
        record = TransferRecord(
            ctx.organization_id, task.id, invoice_key(ctx.organization_id, task.id), TransferState.HELD_BACK
        )
    texts = tuple(str(r) for r in reasons)
    if record.state == TransferState.HELD_BACK and record.reasons == texts:
        return  # already told; say it again only when the reasons change
    _save(ctx, replace(record, state=TransferState.HELD_BACK, reasons=texts, fingerprint=fp))
    ctx.recorder.record(FLOW, EntityKind.TASK, task.id, Outcome.HELD_BACK, reasons=reasons)


def _transfer(ctx: CycleContext, task: Task, record: TransferRecord | None, fp: str) -> None:
    """Resolves a record in doubt by its key, or stores PENDING and sends the create."""
    if record is not None and record.state in _IN_DOUBT:
        found = ctx.procountor.find_invoices_by_key(record.key)
        if found:
            invoice = min(found, key=lambda ref: ref.id)
            with ctx.state.together():
                _save(ctx, replace(record, state=TransferState.CREATED, invoice_id=invoice.id, reasons=()))
                ctx.recorder.record(FLOW, EntityKind.TASK, task.id, Outcome.ADOPTED, procountor_id=invoice.id)
            return
        if reasons := _reasons(ctx, task, record):
            with ctx.state.together():
                _hold_back(ctx, task, record, reasons, fp)  # not in Procountor after all, and no longer eligible
            return
    if record is None:
        record = TransferRecord(
            ctx.organization_id, task.id, invoice_key(ctx.organization_id, task.id), TransferState.PENDING
        )
    customer = ctx.customers[task.customer_id]  # type: ignore[index]
    draft = draft_invoice(
        task,
        customer,
        ctx.products,
        partner_id=ctx.partner_links[customer.id],
        product_links=ctx.product_links,
        terms=InvoiceTerms(now=ctx.clock.now(), default_payment_term_days=ctx.settings.default_payment_term_days),
    )
    record = _save(ctx, replace(record, state=TransferState.PENDING, fingerprint=fp, attempts=record.attempts + 1))
    try:
        created = ctx.procountor.create_invoice(draft)
    except OutcomeUnknown as exc:
        reason = Reason.of(ReasonCode.NO_ANSWER, what="The invoice", detail=str(exc))
        with ctx.state.together():
            _save(ctx, replace(record, state=TransferState.SENT, reasons=(str(reason),)))
            ctx.recorder.record(FLOW, EntityKind.TASK, task.id, Outcome.FAILED, reasons=[reason])
        return
    except ProcountorRejected as exc:
        reason = Reason.of(ReasonCode.REJECTED_BY_PROCOUNTOR, detail=str(exc))
        with ctx.state.together():
            _save(ctx, replace(record, state=TransferState.FAILED, reasons=(str(reason),)))
            ctx.recorder.record(FLOW, EntityKind.TASK, task.id, Outcome.FAILED, reasons=[reason])
        return
    with ctx.state.together():  # the record and its run-log event in one commit
        _save(ctx, replace(record, state=TransferState.CREATED, invoice_id=created.id, reasons=()))
        ctx.recorder.record(FLOW, EntityKind.TASK, task.id, Outcome.CREATED, procountor_id=created.id)


def _settle_orphan(ctx: CycleContext, record: TransferRecord) -> None:
    """A create in doubt for a task that no longer awaits an invoice: adopt what Procountor has, else stop."""
    found = ctx.procountor.find_invoices_by_key(record.key)
    with ctx.state.together():
        if found:
            invoice = min(found, key=lambda ref: ref.id)
            _save(ctx, replace(record, state=TransferState.CREATED, invoice_id=invoice.id, reasons=()))
            ctx.recorder.record(FLOW, EntityKind.TASK, record.task_id, Outcome.ADOPTED, procountor_id=invoice.id)
            return
        reason = Reason.of(ReasonCode.TASK_NOT_COMPLETED, status="reopened, cancelled or deleted")
        _save(ctx, replace(record, state=TransferState.HELD_BACK, reasons=(str(reason),)))
        ctx.recorder.record(FLOW, EntityKind.TASK, record.task_id, Outcome.HELD_BACK, reasons=[reason])


def sync_invoices(ctx: CycleContext) -> None:
    """Judges every task awaiting an invoice; transfers the eligible ones, notes why the others wait."""
    tasks = ctx.spotilla.tasks_awaiting_invoice(ctx.organization_id)
    # Every record not yet CREATED, in one read: the tasks awaiting an invoice are among them, and so is
    # any record left in doubt whose task has since stopped awaiting one (reopened, cancelled, deleted).
    records = ctx.state.transfers(ctx.organization_id, states=_OPEN)
    awaiting = {t.id for t in tasks}
    orphans = [r for r in records.values() if r.state in _IN_DOUBT and r.task_id not in awaiting]
    for_each(orphans, lambda record: _settle_orphan(ctx, record), workers=ctx.options.workers, stop=ctx.options.stop)
    ready = []
    with ctx.state.together():  # every hold-back of the pass in one commit
        for task in tasks:
            record = records.get(task.id)
            state = record.state if record else None
            if state == TransferState.CREATED:
                continue
            fp = _task_fingerprint(ctx, task)
            if record is not None and state == TransferState.FAILED and record.fingerprint == fp:
                continue  # Procountor refused exactly this data; it is tried again once the data changes
            reasons = _reasons(ctx, task, record)
            if reasons and state not in _IN_DOUBT:
                _hold_back(ctx, task, record, reasons, fp)
            else:
                ready.append((task, record, fp))
    for_each(ready, lambda item: _transfer(ctx, *item), workers=ctx.options.workers, stop=ctx.options.stop)

"""Which tasks may be invoiced: every reason a task is held back, not just the first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from spotilla_procountor.domain.business_id import parse_business_id
from spotilla_procountor.domain.model import (
    Customer,
    IntegrationSettings,
    Product,
    Task,
    TaskStatus,
    TransferPolicy,
)
from spotilla_procountor.domain.reasons import Reason, ReasonCode


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What is known about a task's surroundings when its eligibility is judged."""

    customer: Customer | None
    products: Mapping[int, Product]
    settings: IntegrationSettings
    invoice_id: int | None = None
    """Procountor invoice already created for this task, if any."""
    product_problems: Mapping[int, Reason] = field(default_factory=dict)
    """Products that are not in Procountor and cannot be created there, with why."""


def customer_reasons(customer: Customer) -> list[Reason]:
    """Why a customer cannot be invoiced (or created in Procountor): name and business ID."""
    reasons = []
    if not (customer.name or "").strip():
        reasons.append(Reason.of(ReasonCode.CUSTOMER_NAME_MISSING, customer_id=customer.id))
    verdict = parse_business_id(customer.business_id)
    if verdict.reason:
        reasons.append(verdict.reason)
    return reasons


def _status_reasons(task: Task, ctx: TaskContext) -> list[Reason]:
    reasons = []
    if task.status != TaskStatus.COMPLETED:
        reasons.append(Reason.of(ReasonCode.TASK_NOT_COMPLETED, status=task.status))
    if ctx.invoice_id is not None:
        reasons.append(Reason.of(ReasonCode.ALREADY_TRANSFERRED, invoice_id=ctx.invoice_id))
    return reasons


def _customer_reasons(task: Task, ctx: TaskContext) -> list[Reason]:
    if task.customer_id is None:
        return [Reason.of(ReasonCode.NO_CUSTOMER)]
    if ctx.customer is None:
        return [Reason.of(ReasonCode.CUSTOMER_NOT_FOUND, customer_id=task.customer_id)]
    return customer_reasons(ctx.customer)


def _policy_reasons(task: Task, ctx: TaskContext) -> list[Reason]:
    if ctx.settings.policy == TransferPolicy.WITH_ORDER_NUMBER and not (task.order_number or "").strip():
        return [Reason.of(ReasonCode.NO_ORDER_NUMBER)]
    return []


def _product_reasons(task: Task, ctx: TaskContext) -> list[Reason]:
    if not task.products:
        return [Reason.of(ReasonCode.NO_PRODUCTS)]
    reasons = []
    for used in task.products:
        product = ctx.products.get(used.product_id)
        if product is None:
            reasons.append(Reason.of(ReasonCode.PRODUCT_NOT_FOUND, product_id=used.product_id))
            continue
        if used.quantity <= Decimal(0):
            reasons.append(Reason.of(ReasonCode.QUANTITY_NOT_POSITIVE, product=product.name, quantity=used.quantity))
        if used.product_id in ctx.product_problems:
            reasons.append(ctx.product_problems[used.product_id])
    return reasons


def reasons_held_back(task: Task, ctx: TaskContext) -> list[Reason]:
    """Every reason the task cannot be invoiced now; empty means it is eligible."""
    return [
        *_status_reasons(task, ctx),
        *_customer_reasons(task, ctx),
        *_policy_reasons(task, ctx),
        *_product_reasons(task, ctx),
    ]

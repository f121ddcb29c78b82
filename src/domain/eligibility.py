"""Which tasks may be invoiced: every reason a task is held back, not just the first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from spotilla_procountor.domain.business_id import parse_business_id
from spotilla_procountor.domain.codes import SHORT_FACT, shortened
from spotilla_procountor.domain.invoicing import HELSINKI
from spotilla_procountor.domain.model import (
    Customer,
    IntegrationSettings,
    Product,
    Task,
    TaskStatus,
    TransferPolicy,
    Unreadable,
)
from spotilla_procountor.domain.money import invoice_total
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
    now: datetime | None = None
    """When the task is judged: a completion time later than this (beyond the tenant's clock skew) holds it back."""


# Facts that may repeat what someone typed (a name, a value), and how much of it a reason repeats.
_FACT_LIMITS = {"product": SHORT_FACT, "value": SHORT_FACT + 2, "what": 2 * SHORT_FACT, "detail": 300}


def brief(reason: Reason) -> Reason:
    """The reason with long facts cut short, so that no sentence repeats a name of thousands of characters."""
    params = tuple((k, shortened(v, _FACT_LIMITS[k]) if k in _FACT_LIMITS else v) for k, v in reason.params)
    return reason if params == reason.params else Reason(reason.code, params)


def not_a_number(value: object) -> str | None:
    """How a value that must be a finite number is shown in a reason when it is not one; None when it is one."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool) and Decimal(value).is_finite():
        return None
    if value is None:
        return "empty"
    if isinstance(value, Unreadable):
        return repr(shortened(value.raw))
    return shortened(value)  # NaN, Infinity


def customer_reasons(customer: Customer) -> list[Reason]:
    """Why a customer cannot be invoiced (or created in Procountor): name and business ID."""
    reasons = []
    if not (customer.name or "").strip():
        reasons.append(Reason.of(ReasonCode.CUSTOMER_NAME_MISSING, customer_id=customer.id))
    verdict = parse_business_id(customer.business_id)
    if verdict.reason:
        reasons.append(brief(verdict.reason))
    if isinstance(customer.payment_term_days, Unreadable):
        reasons.append(
            Reason.of(
                ReasonCode.VALUE_UNREADABLE,
                field="payment term",
                what=f"customer {shortened(customer.name or customer.id)}",
                value=not_a_number(customer.payment_term_days),
            )
        )
    return reasons


def _status_reasons(task: Task, ctx: TaskContext) -> list[Reason]:
    reasons = []
    if task.status != TaskStatus.COMPLETED:
        reasons.append(Reason.of(ReasonCode.TASK_NOT_COMPLETED, status=task.status))
    if ctx.invoice_id is not None:
        reasons.append(Reason.of(ReasonCode.ALREADY_TRANSFERRED, invoice_id=ctx.invoice_id))
    return reasons


def _completion_reasons(task: Task, ctx: TaskContext) -> list[Reason]:
    """A completed task needs a completion time that can be read and is not in the future."""
    done = task.completed_at
    if task.status != TaskStatus.COMPLETED:
        return []
    if done is None:
        return [Reason.of(ReasonCode.COMPLETION_TIME_MISSING)]
    if isinstance(done, Unreadable):
        return [
            Reason.of(ReasonCode.VALUE_UNREADABLE, field="completion time", what="the task", value=not_a_number(done))
        ]
    latest = ctx.now + timedelta(minutes=ctx.settings.completion_clock_skew_minutes) if ctx.now else None
    if latest is not None and done > latest:
        shown = done.astimezone(HELSINKI).strftime("%Y-%m-%d %H:%M")
        return [Reason.of(ReasonCode.COMPLETION_TIME_IN_FUTURE, completed_at=shown)]
    return []


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
        reasons += _quantity_reasons(used.quantity, product, ctx.settings)
        reasons += _price_reasons(product)
        if used.product_id in ctx.product_problems:
            reasons.append(brief(ctx.product_problems[used.product_id]))
    return reasons


def _quantity_reasons(quantity: object, product: Product, settings: IntegrationSettings) -> list[Reason]:
    name = shortened(product.name)
    if (shown := not_a_number(quantity)) is not None:
        return [Reason.of(ReasonCode.QUANTITY_INVALID, product=name, value=shown)]
    if quantity <= Decimal(0):  # type: ignore[operator]
        return [Reason.of(ReasonCode.QUANTITY_NOT_POSITIVE, product=name, quantity=quantity)]
    if quantity > settings.quantity_ceiling:  # type: ignore[operator]
        ceiling = settings.quantity_ceiling
        return [Reason.of(ReasonCode.QUANTITY_ABOVE_CEILING, product=name, quantity=quantity, ceiling=ceiling)]
    return []


def _price_reasons(product: Product) -> list[Reason]:
    name = shortened(product.name)
    reasons = []
    if (shown := not_a_number(product.unit_price)) is not None:
        reasons.append(Reason.of(ReasonCode.PRICE_INVALID, product=name, value=shown))
    if (shown := not_a_number(product.vat_percent)) is not None:
        what = f"product {name}"
        reasons.append(Reason.of(ReasonCode.VALUE_UNREADABLE, field="VAT percent", what=what, value=shown))
    return reasons


def _total_reasons(task: Task, ctx: TaskContext) -> list[Reason]:
    """The draft's total, by the invoice's own money rules, against the tenant's ceiling (products are valid)."""
    lines = [(u.quantity, ctx.products[u.product_id]) for u in task.products]
    total = invoice_total((q, p.unit_price, p.vat_percent) for q, p in lines)  # type: ignore[misc]
    ceiling = ctx.settings.invoice_total_ceiling
    if total > ceiling:
        return [Reason.of(ReasonCode.TOTAL_ABOVE_CEILING, total=total, ceiling=ceiling)]
    return []


def _tenant_reasons(task: Task, ctx: TaskContext) -> list[Reason]:
    """What the organization's own settings stop: no bank account yet, or work from before the start day."""
    reasons = [] if ctx.settings.has_bank_account else [Reason.of(ReasonCode.NO_BANK_ACCOUNT)]
    start, done = ctx.settings.tasks_completed_from, task.completed_at
    if start is not None and isinstance(done, datetime) and done.astimezone(HELSINKI).date() < start:
        completed_on = done.astimezone(HELSINKI).date()
        reasons.append(Reason.of(ReasonCode.COMPLETED_BEFORE_START, completed_on=completed_on, start=start))
    return reasons


def reasons_held_back(task: Task, ctx: TaskContext) -> list[Reason]:
    """Every reason the task cannot be invoiced now, each once; empty means it is eligible."""
    products = _product_reasons(task, ctx)
    reasons = [
        *_tenant_reasons(task, ctx),
        *_status_reasons(task, ctx),
        *_completion_reasons(task, ctx),
        *_customer_reasons(task, ctx),
        *_policy_reasons(task, ctx),
        *products,
        *(_total_reasons(task, ctx) if task.products and not products else []),
    ]
    return list(dict.fromkeys(reasons))

"""Flow 1: new Spotilla products are created once in Procountor's product register; later edits stay put."""

from __future__ import annotations

from spotilla_procountor.domain.concurrency import for_each
from spotilla_procountor.domain.errors import OutcomeUnknown, ProcountorRejected
from spotilla_procountor.domain.keys import fingerprint, product_code
from spotilla_procountor.domain.master_data import new_product
from spotilla_procountor.domain.model import Product
from spotilla_procountor.domain.procountor import NewProduct
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Link, LinkState, Outcome
from spotilla_procountor.domain.sync_context import CycleContext

FLOW = "products"
_SETTLED_PROBLEMS = (LinkState.FAILED, LinkState.HELD_BACK)


def _link(ctx: CycleContext, product: Product, state: LinkState, **kw: object) -> Link:
    link = Link(ctx.organization_id, EntityKind.PRODUCT, product.id, state=state, **kw)  # type: ignore[arg-type]
    ctx.state.save_link(link)
    return link


def _product_fingerprint(product: Product) -> str:
    return fingerprint(product.name, product.code, product.unit, product.unit_price, product.vat_percent)


def _hold_back(ctx: CycleContext, product: Product, reason: Reason, previous: Link | None) -> None:
    ctx.product_problems[product.id] = reason
    fp = _product_fingerprint(product)
    if previous is None or previous.fingerprint != fp or previous.reason != reason.message:
        _link(ctx, product, LinkState.HELD_BACK, procountor_id=None, fingerprint=fp, reason=reason.message)
        ctx.recorder.record(FLOW, EntityKind.PRODUCT, product.id, Outcome.HELD_BACK, reasons=[reason])


def _create(ctx: CycleContext, item: tuple[Product, NewProduct]) -> None:
    product, wanted = item
    fp = _product_fingerprint(product)
    _link(ctx, product, LinkState.PENDING, procountor_id=None, fingerprint=fp)
    try:
        created = ctx.procountor.create_product(wanted)
    except OutcomeUnknown as exc:
        reason = Reason.of(ReasonCode.NO_ANSWER, what=f"Product {product.name}", detail=str(exc))
        ctx.product_problems[product.id] = reason
        ctx.recorder.record(FLOW, EntityKind.PRODUCT, product.id, Outcome.FAILED, reasons=[reason])
        return
    except ProcountorRejected as exc:
        reason = Reason.of(ReasonCode.PRODUCT_NOT_CREATABLE, product=product.name, detail=str(exc))
        ctx.product_problems[product.id] = reason
        with ctx.state.together():
            _link(ctx, product, LinkState.FAILED, procountor_id=None, fingerprint=fp, reason=reason.message)
            ctx.recorder.record(FLOW, EntityKind.PRODUCT, product.id, Outcome.FAILED, reasons=[reason])
        return
    with ctx.state.together():  # the link and its run-log event in one commit
        _link(ctx, product, LinkState.LINKED, procountor_id=created.id, fingerprint=fp)
        ctx.recorder.record(FLOW, EntityKind.PRODUCT, product.id, Outcome.CREATED, procountor_id=created.id)
    ctx.product_links[product.id] = created.id


def sync_products(ctx: CycleContext) -> None:
    """Links existing products, creates the missing ones, and notes those that cannot be created."""
    links = ctx.state.links(ctx.organization_id, EntityKind.PRODUCT)
    ctx.products = {p.id: p for p in ctx.spotilla.products(ctx.organization_id)}
    todo = []
    for product in ctx.products.values():
        link = links.get(product.id)
        if link and link.state == LinkState.LINKED and link.procountor_id is not None:
            ctx.product_links[product.id] = link.procountor_id
        elif link and link.state in _SETTLED_PROBLEMS and link.fingerprint == _product_fingerprint(product):
            # Unchanged since Procountor refused it or it was found uncreatable: not retried in a loop.
            ctx.product_problems[product.id] = Reason(
                ReasonCode.PRODUCT_NOT_CREATABLE, link.reason or "refused earlier"
            )
        else:
            todo.append(product)
    if not todo:
        return
    vats = ctx.procountor.vat_percentages()
    creatable = []
    with ctx.state.together():  # every hold-back of the pass in one commit
        for product in todo:
            plan = new_product(product, vats)
            if isinstance(plan, Reason):
                _hold_back(ctx, product, plan, links.get(product.id))
            else:
                creatable.append((product, plan))
    _create_missing(ctx, creatable)


def _create_missing(ctx: CycleContext, creatable: list[tuple[Product, NewProduct]]) -> None:
    """Looks the codes up first (one listing), links what Procountor already has, creates the rest."""
    if not creatable:
        return
    existing = {p.code: p.id for p in ctx.procountor.list_products() if p.code}
    to_create = []
    with ctx.state.together():
        for product, wanted in creatable:
            found = existing.get(product_code(product.id, product.code))
            if found is None:
                to_create.append((product, wanted))
                continue
            _link(ctx, product, LinkState.LINKED, procountor_id=found, fingerprint=_product_fingerprint(product))
            ctx.product_links[product.id] = found
            ctx.recorder.record(FLOW, EntityKind.PRODUCT, product.id, Outcome.LINKED, procountor_id=found)
    for_each(to_create, lambda item: _create(ctx, item), workers=ctx.options.workers, stop=ctx.options.stop)

"""Flows 2 and 5: customers out to Procountor, CUSTOMER partners in to Spotilla, and partner changes back."""

from __future__ import annotations

from datetime import timedelta

from spotilla_procountor.domain.concurrency import for_each
from spotilla_procountor.domain.errors import OutcomeUnknown, ProcountorRejected
from spotilla_procountor.domain.keys import fingerprint
from spotilla_procountor.domain.master_data import (
    apply_fields,
    business_id_key,
    changes_from_procountor,
    customer_fields,
    new_partner,
    procountor_owned_fields,
)
from spotilla_procountor.domain.model import Customer
from spotilla_procountor.domain.procountor import NewPartner, Partner
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Link, LinkState, Outcome, PartnerMirrorEntry
from spotilla_procountor.domain.sync_context import CycleContext

OUT, IN = "customers_out", "partners_in"
PULL_START_MARGIN = timedelta(seconds=2)
"""Taken off Procountor's time at the start of a pull, for servers of Procountor whose clocks differ a little."""


def _save(ctx: CycleContext, customer_id: int, state: LinkState, partner_id: int | None = None, **kw: object) -> None:
    link = Link(ctx.organization_id, EntityKind.CUSTOMER, customer_id, partner_id, state, **kw)  # type: ignore[arg-type]
    ctx.state.save_link(link)
    if state == LinkState.LINKED and partner_id is not None:
        ctx.partner_links[customer_id] = partner_id


def _customer_fingerprint(customer: Customer) -> str:
    return fingerprint(customer_fields(customer), customer.street_address, customer.postal_code, customer.country)


def pull_partner_changes(ctx: CycleContext) -> list[Partner]:
    """Reads the CUSTOMER partners changed since the last pull (all of them the first time).

    The next pull starts from the newest version seen, or from Procountor's time when this pull began (its
    Date header) if that is later: a change not seen now is stamped after that moment, give or take the
    overlap. So a pull that finds nothing still moves the watermark, and a quiet company is not listed in
    full again. Both are Procountor's clock, so ours may be off by any amount.

    Nothing is remembered yet: the mirror and watermark move only after the changes are applied, so a crash
    in between means the same partners are read again, not that a change is lost.
    """
    watermark = ctx.state.partner_watermark(ctx.organization_id)
    since = watermark - ctx.options.partner_pull_overlap if watermark else None
    began = ctx.procountor.procountor_now()
    changed = list(ctx.procountor.list_partners(changed_since=since))
    seen = [p.version for p in changed if p.version]
    if began is not None:
        seen.append(began - PULL_START_MARGIN)
    ctx.partner_high_water = max(seen, default=None)
    ctx.partner_mirror = dict(ctx.state.partner_mirror(ctx.organization_id))
    return [p for p in changed if (m := ctx.partner_mirror.get(p.id)) is None or m.version != p.version]


def remember_pulled(ctx: CycleContext, pulled: list[Partner]) -> None:
    """Stores what was pulled and applied, then moves the pull's start to the newest version seen."""
    entries = [PartnerMirrorEntry(p.id, business_id_key(p.business_id), p.version) for p in pulled]
    ctx.state.remember_partners(ctx.organization_id, entries)
    if ctx.partner_high_water is not None:
        # Procountor's own clock, not ours: a skewed clock on either side cannot make the pull skip a change.
        ctx.state.set_partner_watermark(ctx.organization_id, ctx.partner_high_water)


def _partners_by_business_id(ctx: CycleContext, pulled: list[Partner]) -> dict[str, int]:
    """Known partners by business ID (lowest id first), from the mirror and this cycle's pull."""
    by_business_id: dict[str, int] = {}
    entries = [*ctx.partner_mirror.values()]
    entries += [PartnerMirrorEntry(p.id, business_id_key(p.business_id), p.version) for p in pulled]
    for entry in sorted(entries, key=lambda e: e.partner_id):
        if entry.business_id:
            by_business_id.setdefault(entry.business_id, entry.partner_id)
    return by_business_id


def push_customers(ctx: CycleContext, pulled: list[Partner]) -> None:
    """Links each unlinked customer to a partner with its business ID, or creates the partner once."""
    links = ctx.state.links(ctx.organization_id, EntityKind.CUSTOMER)
    by_business_id = _partners_by_business_id(ctx, pulled)
    claimed = {
        link.procountor_id: cid
        for cid, link in links.items()
        if link.state == LinkState.LINKED and link.procountor_id is not None
    }
    todo: list[tuple[Customer, NewPartner, Link | None]] = []
    planned: dict[str, int] = {}  # business ID → the customer whose partner this cycle creates
    with ctx.state.together():  # the pass's links and hold-backs in one commit
        for customer in sorted(ctx.customers.values(), key=lambda c: c.id):
            link = links.get(customer.id)
            if link and link.state == LinkState.LINKED and link.procountor_id is not None:
                ctx.partner_links[customer.id] = link.procountor_id
                continue
            plan = new_partner(customer)
            if isinstance(plan, list):
                _hold_back(ctx, customer, plan, link)
                continue
            if link and link.state == LinkState.FAILED and link.fingerprint == _customer_fingerprint(customer):
                # Procountor refused exactly this data before: not retried in a loop, only once it changes.
                ctx.customer_problems[customer.id] = [Reason(ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR, link.reason or "")]
                continue
            existing = by_business_id.get(plan.business_id)
            if existing is not None and existing in claimed:
                reason = Reason.of(ReasonCode.DUPLICATE_CUSTOMER, customer_id=customer.id, other_id=claimed[existing])
                _hold_back(ctx, customer, [reason], link)
                continue
            first = planned.get(plan.business_id)
            if existing is None and first is not None:
                reason = Reason.of(ReasonCode.DUPLICATE_CUSTOMER, customer_id=customer.id, other_id=first)
                _hold_back(ctx, customer, [reason], link)
                continue
            if existing is not None:
                claimed[existing] = customer.id
                _save(ctx, customer.id, LinkState.LINKED, existing, fingerprint=_customer_fingerprint(customer))
                ctx.recorder.record(OUT, EntityKind.CUSTOMER, customer.id, Outcome.LINKED, procountor_id=existing)
                continue
            planned[plan.business_id] = customer.id
            todo.append((customer, plan, link))
    for_each(todo, lambda item: _create_partner(ctx, *item), workers=ctx.options.workers, stop=ctx.options.stop)


def _refused(detail: str | None) -> Reason:
    return Reason.of(ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR, detail=detail or "refused earlier")


def _hold_back(ctx: CycleContext, customer: Customer, reasons: list[Reason], link: Link | None) -> None:
    ctx.customer_problems[customer.id] = reasons
    fp = _customer_fingerprint(customer)
    text = " ".join(r.message for r in reasons)
    if link is None or link.fingerprint != fp or link.reason != text:
        _save(ctx, customer.id, LinkState.HELD_BACK, None, fingerprint=fp, reason=text)
        ctx.recorder.record(OUT, EntityKind.CUSTOMER, customer.id, Outcome.HELD_BACK, reasons=reasons)


def _adopt_existing(ctx: CycleContext, plan: NewPartner) -> int | None:
    """After a create with no answer, the partner may exist: find it by business ID."""
    found = ctx.procountor.find_partners_by_business_id(plan.business_id)
    return min(p.id for p in found) if found else None


def _create_partner(ctx: CycleContext, customer: Customer, plan: NewPartner, link: Link | None) -> None:
    fp = _customer_fingerprint(customer)
    if link is not None and link.state == LinkState.PENDING:
        adopted = _adopt_existing(ctx, plan)
        if adopted is not None:
            with ctx.state.together():
                _save(ctx, customer.id, LinkState.LINKED, adopted, fingerprint=fp)
                ctx.recorder.record(OUT, EntityKind.CUSTOMER, customer.id, Outcome.ADOPTED, procountor_id=adopted)
            return
    _save(ctx, customer.id, LinkState.PENDING, None, fingerprint=fp)
    try:
        partner = ctx.procountor.create_partner(plan)
    except OutcomeUnknown as exc:
        reason = _refused(f"no answer from Procountor ({exc}); it is looked up next run")
        ctx.customer_problems[customer.id] = [reason]
        ctx.recorder.record(OUT, EntityKind.CUSTOMER, customer.id, Outcome.FAILED, reasons=[reason])
        return
    except ProcountorRejected as exc:
        reason = _refused(f"Procountor refused it: {exc}")
        ctx.customer_problems[customer.id] = [reason]
        with ctx.state.together():
            _save(ctx, customer.id, LinkState.FAILED, None, fingerprint=fp, reason=reason.message)
            ctx.recorder.record(OUT, EntityKind.CUSTOMER, customer.id, Outcome.FAILED, reasons=[reason])
        return
    entry = PartnerMirrorEntry(partner.id, plan.business_id, partner.version)
    with ctx.state.together():  # mirror entry, link and run-log event in one commit
        ctx.state.remember_partners(ctx.organization_id, [entry])
        _save(ctx, customer.id, LinkState.LINKED, partner.id, fingerprint=fp)
        ctx.recorder.record(OUT, EntityKind.CUSTOMER, customer.id, Outcome.CREATED, procountor_id=partner.id)


def pull_partners(ctx: CycleContext, changed: list[Partner]) -> None:
    """Creates Spotilla customers for new CUSTOMER partners and applies linked partners' changes (Procountor wins)."""
    linked_by_partner = {pid: cid for cid, pid in ctx.partner_links.items()}
    relevant = [p for p in changed if p.type == "CUSTOMER" and (p.id in linked_by_partner or p.active)]
    if relevant:
        _pull_details(ctx, relevant, linked_by_partner)
    remember_pulled(ctx, changed)


def _pull_details(ctx: CycleContext, relevant: list[Partner], linked_by_partner: dict[int, int]) -> None:
    unlinked_by_business_id = {
        key: c.id
        for c in ctx.customers.values()
        if c.id not in ctx.partner_links and (key := business_id_key(c.business_id))
    }
    for partner in ctx.procountor.get_partners([p.id for p in relevant]):
        customer_id = linked_by_partner.get(partner.id)
        if customer_id is None:
            customer_id = unlinked_by_business_id.pop(business_id_key(partner.business_id) or "", None)
        if customer_id is None:
            _create_customer(ctx, partner)
        else:
            _apply_changes(ctx, customer_id, partner)


def _create_customer(ctx: CycleContext, partner: Partner) -> None:
    customer_id = ctx.spotilla.add_customer(ctx.organization_id, procountor_owned_fields(partner))
    with ctx.state.together():
        _save(ctx, customer_id, LinkState.LINKED, partner.id, fingerprint=None)
        ctx.recorder.record(IN, EntityKind.CUSTOMER, customer_id, Outcome.CREATED, procountor_id=partner.id)


def _apply_changes(ctx: CycleContext, customer_id: int, partner: Partner) -> None:
    customer = ctx.customers[customer_id]
    was_linked = customer_id in ctx.partner_links
    changes = changes_from_procountor(customer, partner)
    if changes is not None:
        ctx.spotilla.update_customer(ctx.organization_id, customer_id, changes)
        ctx.customers[customer_id] = apply_fields(customer, changes)
        ctx.recorder.record(IN, EntityKind.CUSTOMER, customer_id, Outcome.UPDATED, procountor_id=partner.id)
    if not was_linked:
        _save(ctx, customer_id, LinkState.LINKED, partner.id, fingerprint=None)
        ctx.recorder.record(IN, EntityKind.CUSTOMER, customer_id, Outcome.LINKED, procountor_id=partner.id)

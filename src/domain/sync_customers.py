"""Flows 2 and 5: customers out to Procountor, CUSTOMER partners in to Spotilla, and partner changes back."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from spotilla_procountor.domain.create_once import (
    Action,
    Create,
    HoldBack,
    LinkExisting,
    Results,
    guarded_plan,
    linked_ids,
    retired_ids,
    retirements,
    unchanged_refusal,
)
from spotilla_procountor.domain.errors import LockLost, OutcomeUnknown, ProcountorError
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
from spotilla_procountor.domain.ports import ProcountorGateway, StateStore
from spotilla_procountor.domain.procountor import NewPartner, Partner
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Flow, Outcome, PartnerMirrorEntry, Record, RecordState
from spotilla_procountor.domain.sync_context import Cycle

PULL_START_MARGIN = timedelta(seconds=2)
"""Taken off Procountor's time at the start of a pull, for servers of Procountor whose clocks differ a little."""


def customer_fingerprint(customer: Customer) -> str:
    return fingerprint(customer_fields(customer), customer.street_address, customer.postal_code, customer.country)


@dataclass(frozen=True)
class PartnerPull:
    """The partners changed since the last pull, what was remembered before it, and where the next one starts."""

    changed: list[Partner]
    mirror: Mapping[int, PartnerMirrorEntry]
    high_water: datetime | None


def pull_partner_changes(cycle: Cycle) -> PartnerPull:
    """Reads the CUSTOMER partners changed since the last pull (all of them the first time).

    The next pull starts from the newest version seen, or from Procountor's time when this pull began (its
    Date header) if that is later: a change not seen now is stamped after that moment, give or take the
    overlap. So a pull that finds nothing still moves the watermark, and a quiet company is not listed in
    full again. Both are Procountor's clock, so ours may be off by any amount.

    Nothing is remembered yet: the mirror and watermark move only after the changes are applied, so a crash
    in between means the same partners are read again, not that a change is lost.
    """
    watermark = cycle.state.partner_watermark(cycle.organization_id)
    since = watermark - cycle.options.partner_pull_overlap if watermark else None
    began = cycle.procountor.procountor_now()
    changed = list(cycle.procountor.list_partners(changed_since=since))
    seen = [p.version for p in changed if p.version]
    if began is not None:
        seen.append(began - PULL_START_MARGIN)
    mirror = dict(cycle.state.partner_mirror(cycle.organization_id))
    fresh = [p for p in changed if (m := mirror.get(p.id)) is None or m.version != p.version]
    return PartnerPull(fresh, mirror, max(seen, default=None))


def _remember_pulled(cycle: Cycle, pull: PartnerPull) -> None:
    """Stores what was pulled and applied, then moves the pull's start to the newest version seen."""
    entries = [PartnerMirrorEntry(p.id, business_id_key(p.business_id), p.version) for p in pull.changed]
    cycle.state.remember_partners(cycle.organization_id, entries)
    if pull.high_water is not None:
        # Procountor's own clock, not ours: a skewed clock on either side cannot make the pull skip a change.
        cycle.state.set_partner_watermark(cycle.organization_id, pull.high_water)


def _partners_by_business_id(pull: PartnerPull) -> dict[str, int]:
    """Known partners by business ID (lowest id first), from the mirror and this cycle's pull."""
    by_business_id: dict[str, int] = {}
    entries = [*pull.mirror.values()]
    entries += [PartnerMirrorEntry(p.id, business_id_key(p.business_id), p.version) for p in pull.changed]
    for entry in sorted(entries, key=lambda e: e.partner_id):
        if entry.business_id:
            by_business_id.setdefault(entry.business_id, entry.partner_id)
    return by_business_id


class PartnerObjects:
    """CUSTOMER partners for the create-once pipeline: found again by business ID; remembered when created."""

    kind = EntityKind.CUSTOMER
    flow = Flow.CUSTOMERS_OUT

    def __init__(
        self, organization_id: int, procountor: ProcountorGateway, state: StateStore, customers: Mapping[int, Customer]
    ) -> None:
        self._organization_id = organization_id
        self._procountor = procountor
        self._state = state
        self._customers = customers
        self._versions: dict[int, datetime | None] = {}

    def send(self, payload: NewPartner) -> int:
        partner = self._procountor.create_partner(payload)
        self._versions[partner.id] = partner.version
        return partner.id

    def look_up(self, spotilla_id: int, payload: NewPartner | None) -> int | None:
        customer = self._customers.get(spotilla_id)
        business_id = payload.business_id if payload else business_id_key(customer.business_id if customer else None)
        if not business_id:
            return None
        found = self._procountor.find_partners_by_business_id(business_id)
        return min(p.id for p in found) if found else None

    def refused(self, spotilla_id: int, error: ProcountorError) -> Reason:
        return _not_in_procountor(f"Procountor refused it: {error}")

    def no_answer(self, spotilla_id: int, error: OutcomeUnknown) -> Reason:
        return _not_in_procountor(f"no answer from Procountor ({error}); it is looked up next run")

    def created(self, payload: NewPartner, procountor_id: int) -> None:
        entry = PartnerMirrorEntry(procountor_id, payload.business_id, self._versions.pop(procountor_id, None))
        self._state.remember_partners(self._organization_id, [entry])


def _not_in_procountor(detail: str) -> Reason:
    return Reason.of(ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR, detail=detail)


def plan_customers(
    customers: Mapping[int, Customer], records: Mapping[int, Record], by_business_id: Mapping[str, int]
) -> tuple[list[Action[NewPartner]], dict[int, tuple[Reason, ...]]]:
    """Each unpaired customer: linked to a partner with its business ID, created as one, or held back.

    Customers deleted in Spotilla are retired first, which frees their partners for a customer that has them.
    """
    actions: list[Action[NewPartner]] = list(retirements(records, customers, "Customer"))
    planner = _CustomerPlanner(
        claimed={
            r.procountor_id: cid for cid, r in records.items() if r.state == RecordState.LINKED and cid in customers
        },
        by_business_id=by_business_id,
    )
    for customer in sorted(customers.values(), key=lambda c: c.id):
        record = records.get(customer.id)
        if record is not None and record.state == RecordState.LINKED and record.procountor_id is not None:
            continue
        fp = customer_fingerprint(customer)
        action = guarded_plan(customer.id, lambda c=customer, r=record, f=fp: planner.plan(c, r, f), fp)
        if action is not None:
            actions.append(action)
    return actions, planner.known


@dataclass
class _CustomerPlanner:
    """Decides one customer at a time, remembering which partners this pass has claimed or will create."""

    claimed: dict[int | None, int]
    by_business_id: Mapping[str, int]
    planned: dict[str, int] = field(default_factory=dict)
    """Business ID → the customer whose partner this pass creates."""
    known: dict[int, tuple[Reason, ...]] = field(default_factory=dict)

    def plan(self, customer: Customer, record: Record | None, fp: str) -> Action[NewPartner] | None:
        wanted = new_partner(customer)
        if isinstance(wanted, list):
            return HoldBack(customer.id, tuple(wanted), fp)
        if unchanged_refusal(record, fp):
            self.known[customer.id] = record.reasons or (_not_in_procountor("refused earlier"),)  # type: ignore[union-attr]
            return None
        existing = self.by_business_id.get(wanted.business_id)
        other = self.claimed.get(existing) if existing is not None else self.planned.get(wanted.business_id)
        if other is not None:
            reason = Reason.of(ReasonCode.DUPLICATE_CUSTOMER, customer_id=customer.id, other_id=other)
            return HoldBack(customer.id, (reason,), fp)
        if existing is not None:
            self.claimed[existing] = customer.id
            return LinkExisting(customer.id, existing, fp)
        self.planned[wanted.business_id] = customer.id
        return Create(customer.id, wanted, fp)


def push_customers(cycle: Cycle, customers: Mapping[int, Customer], pull: PartnerPull) -> Results:
    """Links each unlinked customer to a partner with its business ID, or creates the partner once.

    The results' `retired` holds the partners of every customer deleted in Spotilla: the partner pull leaves them
    alone, so an accountant's edit of such a partner brings back no ghost customer.
    """
    records = cycle.state.records(cycle.organization_id, EntityKind.CUSTOMER)
    actions, known = plan_customers(customers, records, _partners_by_business_id(pull))
    objects = PartnerObjects(cycle.organization_id, cycle.procountor, cycle.state, customers)
    linked = {sid: pid for sid, pid in linked_ids(records).items() if sid in customers}
    results = Results(linked=linked, problems=known, retired=retired_ids(records))
    return cycle.pipeline.run(objects, actions, records, results)


def pull_partners(
    cycle: Cycle,
    customers: dict[int, Customer],
    links: dict[int, int],
    pull: PartnerPull,
    ignored: Collection[int] = (),
) -> None:
    """Creates Spotilla customers for new CUSTOMER partners and applies linked partners' changes (Procountor wins).

    `customers` and `links` (customer id → partner id) are brought up to date with what it did. Partners in
    `ignored` (those of customers deleted in Spotilla) are neither followed nor brought back as customers.
    """
    linked_by_partner = {pid: cid for cid, pid in links.items()}
    relevant = [
        p
        for p in pull.changed
        if p.type == "CUSTOMER" and p.id not in ignored and (p.id in linked_by_partner or p.active)
    ]
    if relevant:
        _pull_details(cycle, relevant, customers, links, linked_by_partner)
    _remember_pulled(cycle, pull)


def _pull_details(
    cycle: Cycle,
    relevant: list[Partner],
    customers: dict[int, Customer],
    links: dict[int, int],
    linked_by_partner: dict[int, int],
) -> None:
    unlinked_by_business_id = {
        key: c.id for c in customers.values() if c.id not in links and (key := business_id_key(c.business_id))
    }
    for partner in cycle.procountor.get_partners([p.id for p in relevant]):
        customer_id = linked_by_partner.get(partner.id)
        if customer_id is None:
            customer_id = unlinked_by_business_id.pop(business_id_key(partner.business_id) or "", None)
        if customer_id is None:
            _create_customer(cycle, partner, customers, links)
        else:
            _apply_changes(cycle, customer_id, partner, customers, links)


def _link_record(cycle: Cycle, customer_id: int, partner_id: int) -> Record:
    return Record(cycle.organization_id, EntityKind.CUSTOMER, customer_id, RecordState.LINKED, procountor_id=partner_id)


def _create_customer(cycle: Cycle, partner: Partner, customers: dict[int, Customer], links: dict[int, int]) -> None:
    fields = procountor_owned_fields(partner)
    if not cycle.state.holds(cycle.fence):  # another run may be adding the same customer now
        raise LockLost("found before adding a customer from Procountor")
    customer_id = cycle.spotilla.add_customer(cycle.organization_id, fields)
    with cycle.state.together():
        cycle.state.save_record(_link_record(cycle, customer_id, partner.id), fence=cycle.fence)
        cycle.recorder.record(
            Flow.PARTNERS_IN, EntityKind.CUSTOMER, customer_id, Outcome.CREATED, procountor_id=partner.id
        )
    links[customer_id] = partner.id


def _apply_changes(
    cycle: Cycle, customer_id: int, partner: Partner, customers: dict[int, Customer], links: dict[int, int]
) -> None:
    customer = customers[customer_id]
    changes = changes_from_procountor(customer, partner)
    if changes is not None:
        cycle.spotilla.update_customer(cycle.organization_id, customer_id, changes)
        customers[customer_id] = apply_fields(customer, changes)
        cycle.recorder.record(
            Flow.PARTNERS_IN, EntityKind.CUSTOMER, customer_id, Outcome.UPDATED, procountor_id=partner.id
        )
    if customer_id not in links:
        cycle.state.save_record(_link_record(cycle, customer_id, partner.id), fence=cycle.fence)
        cycle.recorder.record(
            Flow.PARTNERS_IN, EntityKind.CUSTOMER, customer_id, Outcome.LINKED, procountor_id=partner.id
        )
        links[customer_id] = partner.id

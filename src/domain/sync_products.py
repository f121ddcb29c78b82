"""Flow 1: new Spotilla products are created once in Procountor's product register; later edits stay put."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from decimal import Decimal

from spotilla_procountor.domain.codes import shortened
from spotilla_procountor.domain.create_once import (
    Action,
    Create,
    HoldBack,
    LinkExisting,
    Results,
    guarded_plan,
    linked_ids,
    retirements,
    unchanged_refusal,
)
from spotilla_procountor.domain.errors import OutcomeUnknown, ProcountorError
from spotilla_procountor.domain.keys import fingerprint, product_code
from spotilla_procountor.domain.master_data import new_product
from spotilla_procountor.domain.model import Product
from spotilla_procountor.domain.ports import ProcountorGateway
from spotilla_procountor.domain.procountor import NewProduct
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.state import EntityKind, Flow, Record, RecordState
from spotilla_procountor.domain.sync_context import Cycle


def product_fingerprint(product: Product) -> str:
    return fingerprint(product.name, product.code, product.unit, product.unit_price, product.vat_percent)


class ProductObjects:
    """Products for the create-once pipeline: found again by their code in one listing of the register."""

    kind = EntityKind.PRODUCT
    flow = Flow.PRODUCTS

    def __init__(self, procountor: ProcountorGateway, products: Mapping[int, Product]) -> None:
        self._procountor = procountor
        self._products = products
        self._by_code: dict[str, int] | None = None
        self._lock = threading.Lock()

    def by_code(self) -> dict[str, int]:
        """Procountor's products by code, listed once per cycle (and only when something may be created)."""
        with self._lock:
            if self._by_code is None:
                self._by_code = {p.code: p.id for p in self._procountor.list_products() if p.code}
            return self._by_code

    def send(self, payload: NewProduct) -> int:
        return self._procountor.create_product(payload).id

    def look_up(self, spotilla_id: int, payload: NewProduct | None) -> int | None:
        product = self._products.get(spotilla_id)
        code = payload.code if payload else product_code(spotilla_id, product.code if product else None)
        return self.by_code().get(code)

    def refused(self, spotilla_id: int, error: ProcountorError) -> Reason:
        return Reason.of(ReasonCode.PRODUCT_NOT_CREATABLE, product=self._name(spotilla_id), detail=str(error))

    def no_answer(self, spotilla_id: int, error: OutcomeUnknown) -> Reason:
        return Reason.of(ReasonCode.NO_ANSWER, what=f"Product {self._name(spotilla_id)}", detail=str(error))

    def created(self, payload: NewProduct, procountor_id: int) -> None:
        return None

    def _name(self, spotilla_id: int) -> str:
        product = self._products.get(spotilla_id)
        return shortened(product.name) if product else str(spotilla_id)


def plan_products(
    products: Mapping[int, Product],
    records: Mapping[int, Record],
    objects: ProductObjects,
    procountor: ProcountorGateway,
) -> tuple[list[Action[NewProduct]], dict[int, tuple[Reason, ...]]]:
    """Actions for the products not yet paired, and the problems already known of the others."""
    known: dict[int, tuple[Reason, ...]] = {}
    todo = []
    for product in products.values():
        record = records.get(product.id)
        fp = product_fingerprint(product)
        if record is not None and record.state == RecordState.LINKED and record.procountor_id is not None:
            continue
        if record is not None and record.state == RecordState.HELD_BACK and record.fingerprint == fp:
            known[product.id] = record.reasons  # unchanged since it was found uncreatable
        elif unchanged_refusal(record, fp):
            known[product.id] = record.reasons or (_refused_earlier(product),)  # type: ignore[union-attr]
        else:
            todo.append((product, fp))
    if not todo:
        return [], known
    vats = procountor.vat_percentages()
    actions: list[Action[NewProduct]] = []
    for product, fp in todo:
        action = guarded_plan(product.id, lambda p=product, f=fp: _plan_one(p, f, vats, objects), fp)
        if action is not None:
            actions.append(action)
    return actions, known


def _plan_one(product: Product, fp: str, vats: frozenset[Decimal], objects: ProductObjects) -> Action[NewProduct]:
    wanted = new_product(product, vats)
    if isinstance(wanted, Reason):
        return HoldBack(product.id, (wanted,), fp)
    if (found := objects.by_code().get(wanted.code)) is not None:
        return LinkExisting(product.id, found, fp)
    return Create(product.id, wanted, fp)


def _refused_earlier(product: Product) -> Reason:
    return Reason.of(ReasonCode.PRODUCT_NOT_CREATABLE, product=shortened(product.name), detail="refused earlier")


def sync_products(cycle: Cycle, products: Mapping[int, Product]) -> Results:
    """Links existing products, creates the missing ones, and notes those that cannot be created."""
    records = cycle.state.records(cycle.organization_id, EntityKind.PRODUCT)
    objects = ProductObjects(cycle.procountor, products)
    actions, known = plan_products(products, records, objects, cycle.procountor)
    actions += retirements(records, products, "Product")
    linked = {sid: pid for sid, pid in linked_ids(records).items() if sid in products}
    return cycle.pipeline.run(objects, actions, records, Results(linked=linked, problems=known))


def first_reasons(results: Results) -> Iterator[tuple[int, Reason]]:
    """Each product problem as the single reason a task using the product is given."""
    for product_id, reasons in results.problems.items():
        if reasons:
            yield product_id, reasons[0]

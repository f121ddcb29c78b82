"""Which completed tasks may be invoiced, and every reason one is held back."""

from decimal import Decimal

import pytest

from spotilla_procountor.domain.eligibility import TaskContext, customer_reasons, reasons_held_back
from spotilla_procountor.domain.model import IntegrationSettings, TaskProduct, TaskStatus, TransferPolicy
from spotilla_procountor.domain.reasons import Reason, ReasonCode

from .builders import ORG, PRODUCTS, SETTINGS, customer, task

ONLY_WITH_ORDER_NUMBER = IntegrationSettings(ORG, policy=TransferPolicy.WITH_ORDER_NUMBER)


def codes(reasons: list[Reason]) -> list[ReasonCode]:
    return [r.code for r in reasons]


def context(**changes: object) -> TaskContext:
    values: dict[str, object] = {"customer": customer(), "products": PRODUCTS, "settings": SETTINGS, **changes}
    return TaskContext(**values)  # type: ignore[arg-type]


def test_a_complete_task_with_a_good_customer_and_products_is_eligible() -> None:
    assert reasons_held_back(task(), context()) == []


@pytest.mark.parametrize("status", [TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.CANCELLED])
def test_a_task_not_completed_is_held_back(status: TaskStatus) -> None:
    reasons = reasons_held_back(task(status=status), context())
    assert codes(reasons) == [ReasonCode.TASK_NOT_COMPLETED]
    assert str(status) in reasons[0].message


def test_a_task_already_transferred_is_held_back_naming_the_invoice() -> None:
    reasons = reasons_held_back(task(), context(invoice_id=300001))
    assert codes(reasons) == [ReasonCode.ALREADY_TRANSFERRED]
    assert "300001" in reasons[0].message


def test_a_task_without_customer_is_held_back() -> None:
    assert codes(reasons_held_back(task(customer_id=None), context(customer=None))) == [ReasonCode.NO_CUSTOMER]


def test_a_task_whose_customer_is_gone_is_held_back() -> None:
    reasons = reasons_held_back(task(customer_id=99), context(customer=None))
    assert codes(reasons) == [ReasonCode.CUSTOMER_NOT_FOUND]
    assert "99" in reasons[0].message


@pytest.mark.parametrize(
    ("name", "business_id", "expected"),
    [
        (None, "0112038-9", [ReasonCode.CUSTOMER_NAME_MISSING]),
        ("  ", "0112038-9", [ReasonCode.CUSTOMER_NAME_MISSING]),
        ("Rakennus Oy", None, [ReasonCode.BUSINESS_ID_MISSING]),
        ("Rakennus Oy", "0112038", [ReasonCode.BUSINESS_ID_MALFORMED]),
        ("Rakennus Oy", "0112038-8", [ReasonCode.BUSINESS_ID_CHECK_DIGIT]),
        (None, "", [ReasonCode.CUSTOMER_NAME_MISSING, ReasonCode.BUSINESS_ID_MISSING]),
    ],
)
def test_a_customer_needs_a_name_and_a_valid_business_id(
    name: str | None, business_id: str | None, expected: list[ReasonCode]
) -> None:
    assert codes(customer_reasons(customer(name=name, business_id=business_id))) == expected


@pytest.mark.parametrize("order_number", [None, "", "   "])
def test_a_task_without_order_number_waits_when_the_organization_wants_one(order_number: str | None) -> None:
    ctx = context(settings=ONLY_WITH_ORDER_NUMBER)
    assert codes(reasons_held_back(task(order_number=order_number), ctx)) == [ReasonCode.NO_ORDER_NUMBER]
    assert reasons_held_back(task(order_number=order_number), context()) == []


def test_a_task_without_products_is_held_back() -> None:
    assert codes(reasons_held_back(task(products=()), context())) == [ReasonCode.NO_PRODUCTS]


@pytest.mark.parametrize("quantity", ["0", "-1", "-0.001"])
def test_a_quantity_must_be_more_than_zero(quantity: str) -> None:
    used = (TaskProduct(1, 1, Decimal(quantity)),)
    reasons = reasons_held_back(task(products=used), context())
    assert codes(reasons) == [ReasonCode.QUANTITY_NOT_POSITIVE]
    assert "Installation work" in reasons[0].message


def test_a_product_gone_from_the_register_is_held_back() -> None:
    used = (TaskProduct(1, 77, Decimal(1)),)
    assert codes(reasons_held_back(task(products=used), context())) == [ReasonCode.PRODUCT_NOT_FOUND]


def test_a_product_that_cannot_be_created_holds_the_task_back_with_its_reason() -> None:
    problem = Reason.of(ReasonCode.PRODUCT_NOT_CREATABLE, product="Travel", detail="no unit.")
    reasons = reasons_held_back(task(), context(product_problems={2: problem}))
    assert reasons == [problem]


def test_every_reason_is_listed_in_a_fixed_order() -> None:
    used = (TaskProduct(1, 1, Decimal(0)), TaskProduct(2, 77, Decimal(1)), TaskProduct(3, 2, Decimal(-2)))
    broken = task(status=TaskStatus.IN_PROGRESS, order_number=None, products=used)
    ctx = context(customer=customer(name="", business_id="2077474-1"), settings=ONLY_WITH_ORDER_NUMBER, invoice_id=5)
    assert codes(reasons_held_back(broken, ctx)) == [
        ReasonCode.TASK_NOT_COMPLETED,
        ReasonCode.ALREADY_TRANSFERRED,
        ReasonCode.CUSTOMER_NAME_MISSING,
        ReasonCode.BUSINESS_ID_CHECK_DIGIT,
        ReasonCode.NO_ORDER_NUMBER,
        ReasonCode.QUANTITY_NOT_POSITIVE,
        ReasonCode.PRODUCT_NOT_FOUND,
        ReasonCode.QUANTITY_NOT_POSITIVE,
    ]


@pytest.mark.parametrize("code", list(ReasonCode))
def test_every_reason_code_has_a_sentence_and_keeps_its_name(code: ReasonCode) -> None:
    facts = {
        "status": "OPEN",
        "invoice_id": 1,
        "customer_id": 2,
        "value": "x",
        "product": "p",
        "quantity": 0,
        "product_id": 3,
        "detail": "d",
        "other_id": 4,
        "what": "w",
        "seconds": 5,
        "procountor_id": 9,
        "error": "KeyError",
        "field": "f",
        "completed_at": "2025-03-14 12:00",
        "ceiling": 10,
        "total": 20,
        "completed_on": "2025-03-01",
        "start": "2025-03-02",
    }
    reason = Reason.of(code, **facts)
    assert code.value == code.name
    assert reason.message.endswith((".", "d"))
    assert str(reason).startswith(f"{code}: ")

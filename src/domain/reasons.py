"""Why an item is held back: a stable code for machines and a sentence a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    """Stable reason codes; they appear in the run log, `status` output and feature files."""

    TASK_NOT_COMPLETED = "TASK_NOT_COMPLETED"
    ALREADY_TRANSFERRED = "ALREADY_TRANSFERRED"
    NO_CUSTOMER = "NO_CUSTOMER"
    CUSTOMER_NOT_FOUND = "CUSTOMER_NOT_FOUND"
    CUSTOMER_NAME_MISSING = "CUSTOMER_NAME_MISSING"
    BUSINESS_ID_MISSING = "BUSINESS_ID_MISSING"
    BUSINESS_ID_MALFORMED = "BUSINESS_ID_MALFORMED"
    BUSINESS_ID_CHECK_DIGIT = "BUSINESS_ID_CHECK_DIGIT"
    NO_ORDER_NUMBER = "NO_ORDER_NUMBER"
    NO_PRODUCTS = "NO_PRODUCTS"
    QUANTITY_NOT_POSITIVE = "QUANTITY_NOT_POSITIVE"
    PRODUCT_NOT_FOUND = "PRODUCT_NOT_FOUND"
    PRODUCT_NOT_CREATABLE = "PRODUCT_NOT_CREATABLE"
    CUSTOMER_NOT_IN_PROCOUNTOR = "CUSTOMER_NOT_IN_PROCOUNTOR"
    NO_ANSWER = "NO_ANSWER"
    DUPLICATE_CUSTOMER = "DUPLICATE_CUSTOMER"
    FIELD_INVALID = "FIELD_INVALID"
    REJECTED_BY_PROCOUNTOR = "REJECTED_BY_PROCOUNTOR"
    CLAIMED_BY_EARLIER_RUN = "CLAIMED_BY_EARLIER_RUN"
    NO_BANK_ACCOUNT = "NO_BANK_ACCOUNT"
    COMPLETED_BEFORE_START = "COMPLETED_BEFORE_START"
    DELETED_IN_SPOTILLA = "DELETED_IN_SPOTILLA"
    ALREADY_PAIRED = "ALREADY_PAIRED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    NOT_SENT = "NOT_SENT"
    GONE_IN_PROCOUNTOR = "GONE_IN_PROCOUNTOR"
    QUANTITY_INVALID = "QUANTITY_INVALID"
    PRICE_INVALID = "PRICE_INVALID"
    VALUE_UNREADABLE = "VALUE_UNREADABLE"
    COMPLETION_TIME_MISSING = "COMPLETION_TIME_MISSING"
    COMPLETION_TIME_IN_FUTURE = "COMPLETION_TIME_IN_FUTURE"
    QUANTITY_ABOVE_CEILING = "QUANTITY_ABOVE_CEILING"
    TOTAL_ABOVE_CEILING = "TOTAL_ABOVE_CEILING"


_SENTENCES: dict[ReasonCode, str] = {
    ReasonCode.TASK_NOT_COMPLETED: "The task is {status}, not completed; it is invoiced once it is marked completed.",
    ReasonCode.ALREADY_TRANSFERRED: "The task was already transferred to Procountor as invoice {invoice_id}.",
    ReasonCode.NO_CUSTOMER: "The task has no customer; choose the customer on the task in Spotilla.",
    ReasonCode.CUSTOMER_NOT_FOUND: "The task's customer {customer_id} no longer exists; choose another customer.",
    ReasonCode.CUSTOMER_NAME_MISSING: "The customer {customer_id} has no name; add the company name in Spotilla.",
    ReasonCode.BUSINESS_ID_MISSING: "The customer has no business ID (Y-tunnus); add it in Spotilla.",
    ReasonCode.BUSINESS_ID_MALFORMED: (
        "The customer's business ID {value!r} is not of the form 1234567-8; correct it in Spotilla."
    ),
    ReasonCode.BUSINESS_ID_CHECK_DIGIT: (
        "The customer's business ID {value} has a wrong check digit; check it against the trade register."
    ),
    ReasonCode.NO_ORDER_NUMBER: (
        "The task has no order number, and this organization transfers only tasks with one; add it in Spotilla."
    ),
    ReasonCode.NO_PRODUCTS: "The task has no products to invoice; add the products used on the task.",
    ReasonCode.QUANTITY_NOT_POSITIVE: (
        "Product {product} on the task has quantity {quantity}; a quantity must be more than zero."
    ),
    ReasonCode.PRODUCT_NOT_FOUND: "Product {product_id} on the task no longer exists in the product register.",
    ReasonCode.PRODUCT_NOT_CREATABLE: "Product {product} cannot be created in Procountor: {detail}",
    ReasonCode.CUSTOMER_NOT_IN_PROCOUNTOR: (
        "The customer could not be created in Procountor ({detail}); the task waits until it can be."
    ),
    ReasonCode.DUPLICATE_CUSTOMER: (
        "Customer {customer_id} has the same business ID as customer {other_id}, which is the one linked to "
        "Procountor; merge the two in Spotilla."
    ),
    ReasonCode.NO_ANSWER: (
        "{what} was sent to Procountor but the answer was lost ({detail}); it may be stored there. The next run "
        "looks it up and finishes the job; nothing needs doing."
    ),
    ReasonCode.FIELD_INVALID: "{what}: {detail}",
    ReasonCode.REJECTED_BY_PROCOUNTOR: "Procountor refused it: {detail}",
    ReasonCode.DELETED_IN_SPOTILLA: (
        "{what} was deleted in Spotilla; its link to Procountor {procountor_id} is kept as history and no longer "
        "followed."
    ),
    ReasonCode.ALREADY_PAIRED: (
        "Procountor {what} {procountor_id} is already paired with another Spotilla item; check for a duplicate in "
        "Spotilla."
    ),
    ReasonCode.GONE_IN_PROCOUNTOR: (
        "Procountor no longer has {what} {procountor_id} it was paired with; the next run finds it again or creates "
        "it once, and sends the invoices that were refused for it again."
    ),
    ReasonCode.NOT_SENT: (
        "It waited too long for its turn to be sent to Procountor and was not sent ({detail}); the next run sends "
        "it. Nothing needs doing."
    ),
    ReasonCode.INTERNAL_ERROR: (
        "The integration could not handle this item ({error}); the operators are told through the service log. "
        "The other items went on."
    ),
    ReasonCode.QUANTITY_INVALID: (
        "The quantity of {product} on the task is {value}, which is not a number; enter the quantity used in Spotilla."
    ),
    ReasonCode.PRICE_INVALID: (
        "The unit price of product {product} is {value}, which is not a number; correct it in Spotilla's product "
        "register."
    ),
    ReasonCode.VALUE_UNREADABLE: "The {field} of {what} is {value}, which cannot be used; correct it in Spotilla.",
    ReasonCode.COMPLETION_TIME_MISSING: (
        "The task is marked completed but has no completion time; set when it was completed in Spotilla."
    ),
    ReasonCode.COMPLETION_TIME_IN_FUTURE: (
        "The task was completed at {completed_at} Finnish time, which is still in the future; correct the "
        "completion time in Spotilla."
    ),
    ReasonCode.QUANTITY_ABOVE_CEILING: (
        "The task's quantity {quantity} of {product} is above this organization's ceiling of {ceiling}; correct it "
        "in Spotilla."
    ),
    ReasonCode.TOTAL_ABOVE_CEILING: (
        "The invoice would total {total} € with VAT, above this organization's ceiling of {ceiling} € per invoice; "
        "check the task's quantities and prices in Spotilla."
    ),
    ReasonCode.CLAIMED_BY_EARLIER_RUN: (
        "An earlier run sent it to Procountor {seconds} s ago and stopped before it heard the answer; a later run "
        "looks it up once it has had time to arrive, and sends it only if it is not there. Nothing needs doing."
    ),
    ReasonCode.NO_BANK_ACCOUNT: "Add the organization's bank account (IBAN) in the integration's settings.",
    ReasonCode.COMPLETED_BEFORE_START: (
        "The task was completed on {completed_on}, before {start}, the day from which this organization "
        "transfers tasks; it is not invoiced through the integration."
    ),
}


_LEGACY = "_text"
"""Parameter holding a sentence stored before reasons kept their parameters (shown as it was stored)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason an item is held back or failed: a code and the facts its sentence is rendered from.

    Stored as code + parameters, so a sentence can be reworded (or translated) without touching stored data.
    """

    code: ReasonCode
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, code: ReasonCode, **facts: object) -> Reason:
        return cls(ReasonCode(code), tuple((k, _text(v)) for k, v in sorted(facts.items())))

    @classmethod
    def stored(cls, code: str, message: str) -> Reason:
        """A reason kept only as its sentence (from before parameters were stored)."""
        return cls(ReasonCode(code), ((_LEGACY, message),))

    @property
    def facts(self) -> dict[str, str]:
        return dict(self.params)

    @property
    def sentence_facts(self) -> dict[str, str]:
        """The facts its sentence is rendered from; empty for a reason kept only as its sentence."""
        facts = self.facts
        return {} if _LEGACY in facts else facts

    @property
    def message(self) -> str:
        facts = self.facts
        if _LEGACY in facts:
            return facts[_LEGACY]
        try:
            return _SENTENCES[self.code].format(**facts)
        except (KeyError, IndexError):  # a parameter the sentence lost: say what is known rather than fail
            return f"{self.code}: " + ", ".join(f"{k}={v}" for k, v in self.params)

    def to_json(self) -> dict[str, object]:
        return {"code": str(self.code), "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: object) -> Reason:
        """From `to_json`'s form, or from a `CODE: sentence` string stored by earlier versions."""
        if isinstance(data, str):
            code, _, message = data.partition(": ")
            if code in ReasonCode.__members__ and message:
                return cls.stored(code, message)
            return cls.stored(ReasonCode.FIELD_INVALID, data)
        if not isinstance(data, dict):
            return cls.stored(ReasonCode.FIELD_INVALID, str(data))
        params = tuple(sorted((str(k), str(v)) for k, v in dict(data.get("params") or {}).items()))
        if data.get("code") not in ReasonCode.__members__:  # written by a newer version: keep what it said
            text = dict(params).get(_LEGACY) or ", ".join(f"{k}={v}" for k, v in params)
            return cls.stored(ReasonCode.FIELD_INVALID, f"{data.get('code')}: {text}")
        return cls(ReasonCode(data["code"]), params)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _text(value: object) -> str:
    """A fact as the sentence shows it: strings as they are, anything else as `str` (Decimals digit for digit)."""
    return value if isinstance(value, str) else str(value)

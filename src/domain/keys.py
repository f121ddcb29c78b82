"""Deterministic keys that let a create be found again in Procountor after its answer was lost."""

from __future__ import annotations

import hashlib
import json

MAX_KEY_LENGTH = 40  # Procountor's originalInvoiceNumber holds at most 40 characters
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if number == 0:
            return text


def invoice_key(organization_id: int, task_id: int) -> str:
    """`SPOTILLA-<org>-T<task>`: unique per tenant and task, readable by an accountant, ≤ 40 characters."""
    key = f"SPOTILLA-{organization_id}-T{task_id}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return f"SP36-{_base36(organization_id)}-T{_base36(task_id)}"


def product_code(product_id: int, code: str | None) -> str:
    """The code a product gets in Procountor: Spotilla's own code, or a stable one made from its id."""
    return code.strip() if code and code.strip() else f"SPOTILLA-{product_id}"


def fingerprint(*parts: object) -> str:
    """A short stable digest of the data an attempt was made with; a changed digest means 'try again'."""
    text = json.dumps(parts, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]

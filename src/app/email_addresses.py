"""E-mail addresses an operator gives (alert recipients), checked and normalized with email-validator."""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email


def normalized_addresses(texts: Iterable[str]) -> tuple[str, ...]:
    """The addresses in `texts` (each may hold several, comma-separated), checked, normalized and without repeats.

    Only their form is checked (no DNS look-up): a mistyped address is refused with a sentence that says what is
    wrong with it, and the operator can fix it at once.
    """
    found: list[str] = []
    for text in texts:
        for part in text.split(","):
            if not part.strip():
                continue
            try:
                address = validate_email(part.strip(), check_deliverability=False).normalized
            except EmailNotValidError as exc:
                raise ValueError(f"{part.strip()!r} is not an e-mail address: {exc}") from None
            if address not in found:
                found.append(address)
    return tuple(found)

"""Money arithmetic: Decimal throughout, rounded to cents once, half up (the Finnish invoicing rule)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_to_cents(amount: Decimal) -> Decimal:
    """The one rounding rule: to whole cents, halves away from zero (ROUND_HALF_UP)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def row_net_total(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """Net (VAT-excluded) total of an invoice row."""
    return round_to_cents(quantity * unit_price)


def vat_of(net_total: Decimal, vat_percent: Decimal) -> Decimal:
    """VAT amount of a row's net total."""
    return round_to_cents(net_total * vat_percent / Decimal(100))


def invoice_total(lines: Iterable[tuple[Decimal, Decimal, Decimal]]) -> Decimal:
    """Total, VAT included, of invoice rows given as (quantity, unit price, VAT %): each row rounded as drafted."""
    total = Decimal("0.00")
    for quantity, unit_price, vat_percent in lines:
        net = row_net_total(quantity, unit_price)
        total += net + vat_of(net, vat_percent)
    return total

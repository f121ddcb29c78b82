"""Money is Decimal, rounded once to cents, halves away from zero."""

from decimal import Decimal

import pytest

from spotilla_procountor.domain.money import round_to_cents, row_net_total, vat_of


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # banker's rounding would give 0.02
        ("14.985", "14.99"),
        ("-0.005", "-0.01"),
        ("0.0049999", "0.00"),
        ("12", "12.00"),
    ],
)
def test_amounts_are_rounded_half_up_to_cents(amount: str, cents: str) -> None:
    assert round_to_cents(Decimal(amount)) == Decimal(cents)
    assert str(round_to_cents(Decimal(amount))) == cents


@pytest.mark.parametrize(
    ("quantity", "unit_price", "net"),
    [("1.5", "49.90", "74.85"), ("0.333", "45.00", "14.99"), ("2.5", "19.99", "49.98"), ("12", "0.59", "7.08")],
)
def test_row_net_total_is_quantity_times_price_rounded_once(quantity: str, unit_price: str, net: str) -> None:
    assert row_net_total(Decimal(quantity), Decimal(unit_price)) == Decimal(net)


@pytest.mark.parametrize(
    ("net", "vat_percent", "vat"),
    [
        ("74.85", "25.5", "19.09"),
        ("1.00", "25.5", "0.26"),
        ("3.00", "25.5", "0.77"),  # 0.765: half up, not to even
        ("7.00", "25.5", "1.79"),  # 1.785
        ("20.00", "14", "2.80"),
        ("49.98", "13.5", "6.75"),
        ("37.50", "0", "0.00"),
        ("-3.00", "25.5", "-0.77"),  # credit rows round away from zero too
    ],
)
def test_vat_of_a_row_is_rounded_half_up(net: str, vat_percent: str, vat: str) -> None:
    assert vat_of(Decimal(net), Decimal(vat_percent)) == Decimal(vat)

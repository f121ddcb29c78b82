"""Invoice totals with Decimal: row sums kept exact, totals rounded once, half up to cents."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_ACCOUNTING_CURRENCY = "EUR"


def round_cents(amount: Decimal) -> Decimal:
    """The one rounding rule: half up to cents."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _row_amounts(row: dict, header_factor: Decimal, prices_include_vat: bool) -> tuple[Decimal, Decimal]:
    """(excluding VAT, VAT) of one row, unrounded, after row and invoice discounts."""
    line = Decimal(row["quantity"]) * Decimal(row["unitPrice"])
    line *= (1 - Decimal(row["discountPercent"]) / _HUNDRED) * header_factor
    rate = Decimal(row["vatPercent"]) / _HUNDRED
    if prices_include_vat:
        excluding = line / (1 + rate)
        return excluding, line - excluding
    return line, line * rate


def invoice_sum_info(invoice: dict) -> list[dict]:
    """`invoiceSumInfo` in the invoice currency (a second, converted entry is not modelled)."""
    header_factor = 1 - Decimal(invoice["discountPercent"]) / _HUNDRED
    include_vat = invoice["extraInfo"]["unitPricesIncludeVat"]
    excluding = vat = Decimal(0)
    for row in invoice["invoiceRows"]:
        row_excluding, row_vat = _row_amounts(row, header_factor, include_vat)
        excluding += row_excluding
        vat += row_vat
    excluding, vat = round_cents(excluding), round_cents(vat)
    currency = invoice["paymentInfo"]["currency"]
    return [
        {
            "currency": currency,
            "inAccountingCurrency": currency == _ACCOUNTING_CURRENCY,
            "excludingVatTotal": excluding,
            "vatSumTotal": vat,
            "invoiceSumTotal": excluding + vat,
        }
    ]


def finnish_reference(base: int) -> str:
    """A Finnish bank reference (viitenumero): digits plus a 7-3-1 weighted check digit."""
    digits = str(base)
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(digits)))
    return digits + str((10 - total % 10) % 10)

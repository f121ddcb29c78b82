"""Products and customers between the registers: what is created, and what Procountor owns afterwards."""

from dataclasses import replace
from decimal import Decimal

import pytest

from spotilla_procountor.domain.master_data import (
    apply_fields,
    business_id_key,
    changes_from_procountor,
    customer_fields,
    new_partner,
    new_product,
    procountor_owned_fields,
)
from spotilla_procountor.domain.procountor import Address, NewPartner, NewProduct, Partner
from spotilla_procountor.domain.reasons import Reason, ReasonCode

from .builders import INSTALLATION, customer

VATS = frozenset(Decimal(v) for v in ("25.5", "14", "13.5", "10", "0"))


def partner(**changes: object) -> Partner:
    billing = Address("Rakennus Oy", "Laskutuskuja 3", "33100", "Tampere", "FINLAND")
    base = Partner(
        100001,
        "Rakennus Oy",
        "CUSTOMER",
        "0112038-9",
        billing_address=billing,
        email="laskut@rakennus.fi",
        einvoice_address="003701120389",
        einvoice_operator="E204503",
        payment_term_days=30,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("unit", "procountor_unit"), [("h", "HOUR"), ("pcs", "PIECE"), ("KM", "KILOMETER"), (" l ", "LITER")]
)
def test_a_product_is_created_with_procountors_unit(unit: str, procountor_unit: str) -> None:
    planned = new_product(replace(INSTALLATION, unit=unit), VATS)
    assert planned == NewProduct("Installation work", "ASE-1", procountor_unit, Decimal("49.90"), Decimal("25.5"))


def test_a_product_with_an_unknown_unit_and_a_vat_not_in_use_gets_one_reason_naming_both() -> None:
    planned = new_product(replace(INSTALLATION, unit="barrel", vat_percent=Decimal(17)), VATS)
    assert isinstance(planned, Reason) and planned.code == ReasonCode.PRODUCT_NOT_CREATABLE
    assert "'barrel'" in planned.message
    assert "VAT 17 %" in planned.message


def test_a_product_with_a_negative_price_cannot_be_created() -> None:
    planned = new_product(replace(INSTALLATION, unit_price=Decimal("-1.00")), VATS)
    assert isinstance(planned, Reason) and "negative" in planned.message


def test_any_vat_is_accepted_when_procountor_lists_none() -> None:
    assert isinstance(new_product(replace(INSTALLATION, vat_percent=Decimal(17)), frozenset()), NewProduct)


def test_a_customer_becomes_a_customer_partner_with_its_site_address_when_it_has_no_billing_address() -> None:
    planned = new_partner(customer(business_id="FI01120389", payment_term_days=21))
    assert isinstance(planned, NewPartner)
    assert (planned.name, planned.business_id, planned.payment_term_days) == ("Rakennus Oy", "0112038-9", 21)
    assert planned.address == Address("Rakennus Oy", "Työmaantie 5", "00500", "Helsinki", "FINLAND")
    assert planned.customer_number == "10"


def test_a_customers_billing_address_and_e_mail_are_preferred() -> None:
    planned = new_partner(
        customer(
            billing_street="Laskutuskuja 3",
            billing_postal_code="33100",
            billing_city="Tampere",
            billing_email="laskut@rakennus.fi",
        )
    )
    assert isinstance(planned, NewPartner)
    assert planned.billing_address == Address("Rakennus Oy", "Laskutuskuja 3", "33100", "Tampere", "FINLAND")
    assert planned.email == "laskut@rakennus.fi"


def test_a_customer_that_cannot_be_created_lists_every_reason() -> None:
    planned = new_partner(customer(name=None, business_id="0112038-8", country="XX"))
    assert isinstance(planned, list)
    assert [r.code for r in planned] == [
        ReasonCode.CUSTOMER_NAME_MISSING,
        ReasonCode.BUSINESS_ID_CHECK_DIGIT,
        ReasonCode.FIELD_INVALID,
    ]


def test_procountor_owns_name_business_id_billing_details_and_payment_term() -> None:
    owned = procountor_owned_fields(partner(business_id="FI01120389"))
    assert owned.name == "Rakennus Oy"
    assert owned.business_id == "0112038-9"
    assert (owned.billing_street, owned.billing_postal_code, owned.billing_city, owned.billing_country) == (
        "Laskutuskuja 3",
        "33100",
        "Tampere",
        "FI",
    )
    assert (owned.email, owned.billing_email) == ("laskut@rakennus.fi", "laskut@rakennus.fi")
    assert (owned.einvoice_address, owned.einvoice_operator, owned.payment_term_days) == (
        "003701120389",
        "E204503",
        30,
    )


def test_a_partner_without_billing_address_gives_its_address_as_the_billing_address() -> None:
    site = Address("Rakennus Oy", "Tilikatu 1", "00100", "Helsinki", "FINLAND")
    owned = procountor_owned_fields(partner(billing_address=None, address=site))
    assert (owned.billing_street, owned.billing_city) == ("Tilikatu 1", "Helsinki")


def test_no_changes_when_spotilla_already_has_procountors_values() -> None:
    current = apply_fields(customer(), procountor_owned_fields(partner()))
    assert changes_from_procountor(current, partner()) is None


def test_procountor_wins_and_spotilla_keeps_its_site_address_and_phone() -> None:
    before = customer(payment_term_days=7)
    changes = changes_from_procountor(before, partner())
    assert changes is not None
    after = apply_fields(before, changes)
    assert after.payment_term_days == 30
    assert customer_fields(after) == procountor_owned_fields(partner())
    assert (after.street_address, after.postal_code, after.city, after.phone) == (
        "Työmaantie 5",
        "00500",
        "Helsinki",
        "040 123456",
    )


@pytest.mark.parametrize(("raw", "key"), [("FI01120389", "0112038-9"), ("0112038-8", None), (None, None)])
def test_customers_and_partners_are_matched_by_the_standard_business_id(raw: str | None, key: str | None) -> None:
    assert business_id_key(raw) == key


def test_a_vat_percent_not_in_use_is_explained_with_the_percents_written_as_people_write_them() -> None:
    from decimal import Decimal

    from spotilla_procountor.domain.master_data import new_product
    from spotilla_procountor.domain.model import Product

    product = Product(1, 1, "P-1", "Lehti", "pcs", Decimal("5.00"), Decimal("20"))
    reason = new_product(product, {Decimal("25.5"), Decimal("10"), Decimal("0")})
    assert "VAT 20 % is not in use in Procountor (allowed: 25.5, 10, 0)" in reason.message


def test_the_country_checked_is_the_country_of_the_address_sent() -> None:
    bad_billing = new_partner(customer(billing_street="PL 12", billing_city="Tampere", billing_country="XX"))
    assert isinstance(bad_billing, list)
    assert [r.code for r in bad_billing] == [ReasonCode.FIELD_INVALID]
    assert "'XX'" in bad_billing[0].message

    ignored_site = new_partner(
        customer(country="XX", billing_street="PL 12", billing_city="Tampere", billing_country="SE")
    )
    assert isinstance(ignored_site, NewPartner)  # the site's country is not sent when there is a billing address
    assert ignored_site.billing_address.country == "SWEDEN"

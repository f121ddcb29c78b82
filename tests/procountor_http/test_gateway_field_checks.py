"""Values Procountor cannot store are refused before anything is sent, with a sentence a person can act on."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from procountor_http_support import ADDRESS, invoice_draft, new_partner, new_product

from spotilla_procountor.domain.errors import FieldNotSendable


def test_a_partner_name_over_80_characters_is_refused_unsent(gateway, fake):
    with pytest.raises(FieldNotSendable) as caught:
        gateway.create_partner(new_partner(1, name="A" * 93))

    assert caught.value.errors == [("name", "name is 93 characters; Procountor allows at most 80")]
    assert fake.request_log == []


def test_a_character_outside_windows_1252_is_refused_unsent(gateway, fake):
    draft = invoice_draft(1)
    row = replace(draft.rows[0], product="Asennus 😀")

    with pytest.raises(FieldNotSendable) as caught:
        gateway.create_invoice(replace(draft, rows=(row,)))

    assert caught.value.errors == [
        (
            "invoiceRows[0].product",
            "invoiceRows[0].product contains '😀', which Procountor cannot store (Windows-1252 only)",
        )
    ]
    assert fake.request_log == []


def test_finnish_letters_and_the_euro_sign_are_sendable(gateway, fake):
    created = gateway.create_product(new_product(1, name="Äänieristys ja öljyt €"))

    assert created.name == "Äänieristys ja öljyt €"


@pytest.mark.parametrize(
    ("changes", "path", "limit"),
    [
        ({"address": replace(ADDRESS, street="K" * 81)}, "address.street", 80),
        ({"address": replace(ADDRESS, zip="0" * 21)}, "address.zip", 20),
        ({"address": replace(ADDRESS, city="H" * 41)}, "address.city", 40),
        ({"billing_address": replace(ADDRESS, name="N" * 81)}, "billingAddress.name", 80),
    ],
)
def test_partner_address_limits(gateway, fake, changes, path, limit):
    with pytest.raises(FieldNotSendable) as caught:
        gateway.create_partner(new_partner(1, **changes))

    [(field, message)] = caught.value.errors
    assert field == path
    assert message.endswith(f"Procountor allows at most {limit}")
    assert fake.request_log == []


@pytest.mark.parametrize(
    ("changes", "path"),
    [({"name": "P" * 101}, "name"), ({"code": "C" * 41}, "code")],
)
def test_product_limits(gateway, fake, changes, path):
    with pytest.raises(FieldNotSendable) as caught:
        gateway.create_product(new_product(1, **changes))

    assert [field for field, _ in caught.value.errors] == [path]
    assert fake.request_log == []


def test_every_problem_of_an_invoice_is_listed_at_once(gateway, fake):
    draft = invoice_draft(
        1,
        key="K" * 41,
        order_reference="R" * 71,
        counterparty_address=replace(ADDRESS, name="Ω" * 81),
    )

    with pytest.raises(FieldNotSendable) as caught:
        gateway.create_invoice(draft)

    assert sorted(field for field, _ in caught.value.errors) == [
        "counterParty.counterPartyAddress.name",
        "counterParty.counterPartyAddress.name",
        "orderReference",
        "originalInvoiceNumber",
    ]
    assert fake.request_log == []


def test_a_value_exactly_at_the_limit_is_sent(gateway, fake):
    created = gateway.create_product(new_product(1, name="P" * 100, code="C" * 40, price=Decimal("1")))

    assert (len(created.name), len(created.code)) == (100, 40)

"""The integration writes only the customer columns Procountor owns, and nothing else in Spotilla."""

from __future__ import annotations

from datetime import datetime

import pytest

from spotilla_procountor.adapters.spotilla_sql.repository import CUSTOMER_WRITABLE, SqlSpotillaRepository
from spotilla_procountor.domain.errors import RepositoryError
from spotilla_procountor.domain.model import Customer, CustomerFields

from .conftest import SteppingClock
from .seed import Seed

FROM_PROCOUNTOR = CustomerFields(
    name="Asunto Oy Kuusikko",
    business_id="1234567-8",
    email="isannointi@kuusikko.fi",
    billing_street="PL 12",
    billing_postal_code="00101",
    billing_city="Helsinki",
    billing_country="FI",
    billing_email="laskut@kuusikko.fi",
    einvoice_address="003712345678",
    einvoice_operator="003721291126",
    payment_term_days=21,
)

SPOTILLA_OWNED = {
    "name": "Kuusikko",
    "phone": "+358 40 123 4567",
    "street_address": "Kuusitie 3",
    "postal_code": "00100",
    "city": "Helsinki",
    "country": "SE",
    "billing_street": "Vanha katu 1",
    "created_at": "2024-01-02 03:04:05",
    "updated_at": "2024-01-02 03:04:05",
}


def test_the_writable_columns_are_exactly_those_the_contract_allows() -> None:
    assert set(CUSTOMER_WRITABLE) == {
        "name",
        "business_id",
        "email",
        "billing_street",
        "billing_postal_code",
        "billing_city",
        "billing_country",
        "billing_email",
        "einvoice_address",
        "einvoice_operator",
        "payment_term_days",
    }


def test_a_customer_added_from_procountor_has_only_procountor_owned_fields(
    seed: Seed, repository: SqlSpotillaRepository, clock: SteppingClock
) -> None:
    org = seed.organization()

    customer_id = repository.add_customer(org, FROM_PROCOUNTOR)

    assert repository.customers(org) == [
        Customer(id=customer_id, organization_id=org, **{c: getattr(FROM_PROCOUNTOR, c) for c in CUSTOMER_WRITABLE})
    ]
    stored = seed.row("customers", customer_id)
    assert {c: stored[c] for c in ("phone", "street_address", "postal_code", "city")} == dict.fromkeys(
        ("phone", "street_address", "postal_code", "city")
    )
    assert stored["country"] == "FI"
    assert _naive_utc(stored["created_at"]) == _naive_utc(stored["updated_at"]) == clock.now().replace(tzinfo=None)


def test_updating_a_linked_customer_leaves_spotilla_owned_columns_untouched(
    seed: Seed, repository: SqlSpotillaRepository, clock: SteppingClock
) -> None:
    org = seed.organization()
    customer_id = seed.customer(org, **SPOTILLA_OWNED)
    neighbour = seed.customer(org, name="Naapuri")
    before, neighbour_before = seed.row("customers", customer_id), seed.row("customers", neighbour)

    repository.update_customer(org, customer_id, FROM_PROCOUNTOR)

    after = seed.row("customers", customer_id)
    untouched = set(before) - set(CUSTOMER_WRITABLE) - {"updated_at"}
    assert {c: after[c] for c in untouched} == {c: before[c] for c in untouched}
    assert {c: after[c] for c in CUSTOMER_WRITABLE} == {c: getattr(FROM_PROCOUNTOR, c) for c in CUSTOMER_WRITABLE}
    assert _naive_utc(after["updated_at"]) == clock.now().replace(tzinfo=None)
    assert seed.row("customers", neighbour) == neighbour_before


def test_a_customer_of_another_tenant_is_not_updated(seed: Seed, repository: SqlSpotillaRepository) -> None:
    org, other = seed.organization(), seed.organization("Muu Oy")
    theirs = seed.customer(other, name="Vieras")
    before = seed.row("customers", theirs)

    with pytest.raises(RepositoryError, match=f"Customer {theirs} does not exist"):
        repository.update_customer(org, theirs, FROM_PROCOUNTOR)

    assert seed.row("customers", theirs) == before


def _naive_utc(value: datetime | str) -> datetime:
    """A raw timestamp as the database driver returns it (SQLite gives text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value

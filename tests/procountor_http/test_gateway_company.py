"""The gateway learns which Procountor company the credentials log in to."""

from __future__ import annotations

import pytest

from spotilla_procountor.adapters.procountor_fake.fake import FakeProcountor
from spotilla_procountor.adapters.procountor_http.readers import company_from
from spotilla_procountor.domain.procountor import CompanyIdentity


def test_the_company_is_read_with_its_id_name_and_business_id(make_gateway, fake: FakeProcountor) -> None:
    gateway, _ = make_gateway()
    assert gateway.company() == CompanyIdentity(
        id=fake.company["id"], name=fake.company["name"], business_id=fake.company["businessId"]
    )


def test_a_company_answer_with_only_an_id_is_enough() -> None:
    assert company_from({"id": "77"}) == CompanyIdentity(77)


def test_a_company_answer_without_an_id_is_not_a_company() -> None:
    with pytest.raises(KeyError):
        company_from({"name": "Nimetön Oy"})

"""GET /company: each credential set logs in to one company, with an id, a name and a business ID."""

import httpx

from fake_procountor.conftest import BASE_URL, authorised
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.domain.business_id import parse_business_id


def _company(fake: FakeProcountor) -> httpx.Response:
    with httpx.Client(transport=fake.transport(), base_url=BASE_URL) as client:
        return authorised(client).get("/api/company")


def test_the_company_answers_with_its_id_name_and_a_valid_business_id() -> None:
    answer = _company(FakeProcountor())
    assert answer.status_code == 200
    company = answer.json()
    assert isinstance(company["id"], int) and company["name"]
    assert parse_business_id(company["businessId"]).reason is None


def test_the_company_can_be_named_when_the_fake_is_made() -> None:
    fake = FakeProcountor(company_id=42, company_name="Rakennus Oy", company_business_id="0112038-9")
    assert _company(fake).json() == {"id": 42, "name": "Rakennus Oy", "businessId": "0112038-9"}


def test_other_credentials_log_in_to_another_company_and_the_same_ones_to_the_same() -> None:
    first = FakeProcountor(client_id="a", api_key="key-a").company
    again = FakeProcountor(client_id="a", api_key="key-a").company
    other = FakeProcountor(client_id="a", api_key="key-b").company
    assert first == again
    assert first["id"] != other["id"]


def test_the_company_needs_a_token() -> None:
    with httpx.Client(transport=FakeProcountor().transport(), base_url=BASE_URL) as client:
        assert client.get("/api/company").status_code == 401

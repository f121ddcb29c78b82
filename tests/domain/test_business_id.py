"""Business ID (Y-tunnus): common written forms accepted, the check digit enforced, every refusal explained."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.fi import ytunnus

from spotilla_procountor.domain.business_id import BusinessId, normalise, parse_business_id
from spotilla_procountor.domain.reasons import ReasonCode

eight_digits = st.text(alphabet="0123456789", min_size=8, max_size=8)


@given(eight_digits, st.booleans())
def test_a_business_id_is_accepted_exactly_when_python_stdnum_accepts_it(digits: str, hyphen: bool) -> None:
    raw = f"{digits[:7]}-{digits[7]}" if hyphen else digits
    assert (parse_business_id(raw).business_id is not None) == ytunnus.is_valid(raw)


@given(eight_digits)
def test_an_accepted_business_id_is_in_standard_form(digits: str) -> None:
    verdict = parse_business_id(digits)
    if verdict.business_id is not None:
        assert str(verdict.business_id) == f"{digits[:7]}-{digits[7]}"
        assert verdict.reason is None


@pytest.mark.parametrize(
    ("raw", "standard"),
    [
        ("0112038-9", "0112038-9"),
        (" 0112038-9 ", "0112038-9"),
        ("FI01120389", "0112038-9"),
        ("fi 0112038 9", "0112038-9"),
        ("01120389", "0112038-9"),
        ("123456-2", "0123456-2"),
    ],
)
def test_common_written_forms_are_normalised(raw: str, standard: str) -> None:
    assert str(parse_business_id(raw).business_id) == standard


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, ReasonCode.BUSINESS_ID_MISSING),
        ("", ReasonCode.BUSINESS_ID_MISSING),
        ("   ", ReasonCode.BUSINESS_ID_MISSING),
        ("ABC", ReasonCode.BUSINESS_ID_MALFORMED),
        ("12345678-9", ReasonCode.BUSINESS_ID_MALFORMED),
        ("FI0112038", ReasonCode.BUSINESS_ID_MALFORMED),
        ("2077474-1", ReasonCode.BUSINESS_ID_CHECK_DIGIT),
        ("1234568-1", ReasonCode.BUSINESS_ID_CHECK_DIGIT),  # no check digit can make 1234568 valid
    ],
)
def test_an_unusable_business_id_says_why(raw: str | None, code: ReasonCode) -> None:
    verdict = parse_business_id(raw)
    assert verdict.business_id is None
    assert verdict.reason is not None and verdict.reason.code == code
    assert verdict.reason.message


def test_normalise_leaves_what_it_cannot_read() -> None:
    assert normalise("ABC") == "ABC"


def test_a_business_id_value_refuses_a_wrong_check_digit() -> None:
    with pytest.raises(ValueError, match="not a valid business ID"):
        BusinessId("2077474-1")

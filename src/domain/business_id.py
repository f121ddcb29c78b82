"""Finnish business ID (Y-tunnus) value object: form `1234567-8` and its check digit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fi import ytunnus

from spotilla_procountor.domain.reasons import Reason, ReasonCode

_CANONICAL = re.compile(r"^\d{7}-\d$")
_FI_PREFIX = re.compile(r"^FI(?=\d{8}$)")


@dataclass(frozen=True, slots=True)
class BusinessId:
    """A valid Finnish business ID (Y-tunnus) in canonical form `NNNNNNN-C`."""

    value: str

    def __post_init__(self) -> None:
        if not _CANONICAL.match(self.value) or not ytunnus.is_valid(self.value):
            raise ValueError(f"not a valid business ID: {self.value!r}")

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class BusinessIdVerdict:
    """Outcome of reading a raw business ID: the ID, or the reason it is unusable."""

    business_id: BusinessId | None
    reason: Reason | None


def normalise(raw: str) -> str:
    """Turns the obvious variants into `NNNNNNN-C`: spaces, `FI` VAT form, no hyphen, old 6-digit form."""
    text = "".join(raw.split()).upper()
    text = _FI_PREFIX.sub("", text)
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:7]}-{text[7]}"
    if re.fullmatch(r"\d{6}-\d", text):
        text = "0" + text
    return text


def parse_business_id(raw: str | None) -> BusinessIdVerdict:
    """Reads a business ID as Spotilla stores it; never raises, says why it is unusable."""
    if raw is None or not raw.strip():
        return BusinessIdVerdict(None, Reason.of(ReasonCode.BUSINESS_ID_MISSING))
    text = normalise(raw)
    if not _CANONICAL.match(text):
        return BusinessIdVerdict(None, Reason.of(ReasonCode.BUSINESS_ID_MALFORMED, value=raw.strip()))
    try:
        ytunnus.validate(text)
    except InvalidChecksum:
        return BusinessIdVerdict(None, Reason.of(ReasonCode.BUSINESS_ID_CHECK_DIGIT, value=text))
    except ValidationError:
        return BusinessIdVerdict(None, Reason.of(ReasonCode.BUSINESS_ID_MALFORMED, value=raw.strip()))
    return BusinessIdVerdict(BusinessId(text), None)

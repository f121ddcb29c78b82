"""Translations of Spotilla's values for Procountor and for people: units, countries, and free text."""

from __future__ import annotations

import re
import unicodedata

SHORT_FACT = 40
"""How many characters of a value a reason repeats; a longer one is cut, with "…"."""
_LINE_BREAKS = re.compile(r"[\t\n\r\v\f\u0085\u2028\u2029]+")

# Spotilla keeps short unit codes (h, pcs, km …); Procountor wants its unit enum names.
UNITS: dict[str, str] = {
    "h": "HOUR",
    "hour": "HOUR",
    "t": "HOUR",
    "min": "MINUTE",
    "pcs": "PIECE",
    "pc": "PIECE",
    "kpl": "PIECE",
    "km": "KILOMETER",
    "m": "METER",
    "m2": "SQUARE_METER",
    "m3": "CUBIC_METER",
    "kg": "KILOGRAM",
    "g": "GRAM",
    "l": "LITER",
    "d": "DAY",
    "pv": "DAY",
    "day": "DAY",
    "month": "MONTH",
    "kwh": "KILOWATT_HOUR",
}

# ISO 3166-1 alpha-2 (Spotilla) ↔ Procountor's country names.
COUNTRIES: dict[str, str] = {
    "FI": "FINLAND",
    "AX": "ALAND_ISLANDS",
    "SE": "SWEDEN",
    "EE": "ESTONIA",
    "NO": "NORWAY",
    "DK": "DENMARK",
    "DE": "GERMANY",
    "GB": "UNITED_KINGDOM",
}
COUNTRY_CODES: dict[str, str] = {name: code for code, name in COUNTRIES.items()}


def procountor_unit(spotilla_unit: str | None) -> str | None:
    """Procountor's unit for a Spotilla unit code, or None when there is no sure match."""
    return UNITS.get((spotilla_unit or "").strip().lower())


def procountor_country(iso_code: str | None) -> str | None:
    """Procountor's country name for an ISO code; a missing code means Finland."""
    code = (iso_code or "FI").strip().upper() or "FI"
    return COUNTRIES.get(code)


def iso_country(procountor_name: str | None) -> str | None:
    """ISO code for a Procountor country name; None when unknown or missing."""
    return COUNTRY_CODES.get((procountor_name or "").strip().upper())


def clean_text(text: str | None) -> str | None:
    """Text as it may be sent: line breaks and tabs become spaces, other control characters go, ends trimmed."""
    if text is None:
        return None
    spaced = _LINE_BREAKS.sub(" ", text)
    return "".join(ch for ch in spaced if unicodedata.category(ch) != "Cc").strip()


def shortened(value: object, limit: int = SHORT_FACT) -> str:
    """A value as a reason repeats it: at most `limit` characters, cut with "…", control characters shown as spaces."""
    text = clean_text(value if isinstance(value, str) else str(value)) or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

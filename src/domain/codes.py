"""Translations between Spotilla's codes and Procountor's enums: units and countries."""

from __future__ import annotations

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

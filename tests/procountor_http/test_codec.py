"""JSON as Procountor reads it: exact decimals digit for digit, compact, UTF-8; dates refused unformatted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotilla_procountor.adapters.procountor_http import codec


def test_decimals_are_written_digit_for_digit_without_exponent_or_float():
    body = {"price": Decimal("49.90"), "qty": Decimal("0.10000"), "big": Decimal("1E+3"), "tiny": Decimal("1E-7")}

    assert codec.dumps(body) == b'{"price":49.90,"qty":0.10000,"big":1000,"tiny":0.0000001}'


def test_text_is_compact_utf8_in_key_order_with_every_json_type():
    body = {"name": "Työmaa Oy", "rows": [{"n": 1}, (True, None)], "ok": False, "x": 1.5}

    assert codec.dumps(body) == '{"name":"Työmaa Oy","rows":[{"n":1},[true,null]],"ok":false,"x":1.5}'.encode()


def test_a_string_that_looks_like_a_number_stays_a_string():
    body = {"a": "1.00", "b": Decimal("1.00"), "c": ["0:0", ":0"]}

    assert codec.dumps(body) == b'{"a":"1.00","b":1.00,"c":["0:0",":0"]}'


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_a_number_procountor_cannot_store_is_refused(bad):
    with pytest.raises(ValueError, match="not a number"):
        codec.dumps({"price": bad})


@pytest.mark.parametrize("moment", [date(2025, 1, 31), datetime(2025, 1, 31, 8, 0, tzinfo=UTC), object()])
def test_values_without_a_json_form_are_refused(moment):
    with pytest.raises(TypeError):
        codec.dumps({"when": moment})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.text(max_size=20)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _exact(value):
    """The value with each Decimal as its digits: Decimal("49.9") == Decimal("49.90"), their digits differ."""
    if isinstance(value, Decimal):
        return ("decimal", format(value, "f"))
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(item) for item in value]
    return value


@given(json_values)
def test_what_is_written_reads_back_the_same_with_decimals_exact(value):
    assert _exact(codec.loads(codec.dumps(value))) == _exact(value)

"""Deterministic keys: they fit Procountor's 40 characters and never collide."""

from hypothesis import given
from hypothesis import strategies as st

from spotilla_procountor.domain.keys import MAX_KEY_LENGTH, fingerprint, invoice_key, product_code

database_ids = st.integers(min_value=1, max_value=2**63 - 1)


def test_an_invoice_key_is_readable_for_ordinary_ids() -> None:
    assert invoice_key(1, 501) == "SPOTILLA-1-T501"


@given(database_ids, database_ids)
def test_an_invoice_key_fits_in_40_characters(organization_id: int, task_id: int) -> None:
    assert len(invoice_key(organization_id, task_id)) <= MAX_KEY_LENGTH


@given(st.tuples(database_ids, database_ids), st.tuples(database_ids, database_ids))
def test_different_tasks_get_different_invoice_keys(one: tuple[int, int], other: tuple[int, int]) -> None:
    assert (invoice_key(*one) == invoice_key(*other)) == (one == other)


def test_invoice_keys_of_huge_ids_are_shortened_and_distinct() -> None:
    big = 2**63 - 1
    keys = {invoice_key(big, big), invoice_key(big, big - 1), invoice_key(big - 1, big), invoice_key(1, big)}
    assert len(keys) == 4
    assert all(len(k) <= MAX_KEY_LENGTH for k in keys)


def test_a_product_keeps_its_own_code_trimmed() -> None:
    assert product_code(7, "  ASE-1 ") == "ASE-1"


def test_a_product_without_a_code_gets_one_from_its_id() -> None:
    assert product_code(7, None) == "SPOTILLA-7"
    assert product_code(7, "   ") == "SPOTILLA-7"


def test_a_fingerprint_is_stable_and_changes_with_the_data() -> None:
    assert fingerprint("a", 1, None) == fingerprint("a", 1, None)
    assert fingerprint("a", 1, None) != fingerprint("a", 2, None)
    assert len(fingerprint("a")) == 16

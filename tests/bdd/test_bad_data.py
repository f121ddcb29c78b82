"""Scenarios of features/bad_data.feature."""

from pytest_bdd import scenarios

scenarios("bad_data.feature")

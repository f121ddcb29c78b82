"""Scenarios of features/eligibility.feature."""

from pytest_bdd import scenarios

scenarios("eligibility.feature")

"""Scenarios of features/business_id.feature."""

from pytest_bdd import scenarios

scenarios("business_id.feature")

"""Scenarios of features/customers.feature."""

from pytest_bdd import scenarios

scenarios("customers.feature")

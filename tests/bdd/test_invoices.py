"""Scenarios of features/invoices.feature."""

from pytest_bdd import scenarios

scenarios("invoices.feature")

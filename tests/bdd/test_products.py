"""Scenarios of features/products.feature."""

from pytest_bdd import scenarios

scenarios("products.feature")

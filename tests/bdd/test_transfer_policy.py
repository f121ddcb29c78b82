"""Scenarios of features/transfer_policy.feature."""

from pytest_bdd import scenarios

scenarios("transfer_policy.feature")

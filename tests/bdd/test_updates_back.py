"""Scenarios of features/updates_back.feature."""

from pytest_bdd import scenarios

scenarios("updates_back.feature")

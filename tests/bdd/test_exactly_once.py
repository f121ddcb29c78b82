"""Scenarios of features/exactly_once.feature."""

from pytest_bdd import scenarios

scenarios("exactly_once.feature")

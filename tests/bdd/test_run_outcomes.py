"""Scenarios of features/run_outcomes.feature."""

from pytest_bdd import scenarios

scenarios("run_outcomes.feature")

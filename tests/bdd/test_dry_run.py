"""Scenarios of features/dry_run.feature."""

from pytest_bdd import scenarios

scenarios("dry_run.feature")

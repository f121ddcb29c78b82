"""The command-line tests' fixtures (kept in `cli_world`, which the tests also import their canaries from)."""

from cli_world import env, procountor

__all__ = ["env", "procountor"]

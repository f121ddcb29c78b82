"""A command that crashes prints a plain traceback: never the values of local variables, where secrets live."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

SECRET = "canary-local-secret-5e0c"
# The service's own command-line app, with one more command that fails holding a secret in a local variable
# (as `tenants enable` holds the API key); run as a real process, as an operator would see it.
CRASHING = f"""
from spotilla_procountor.app.cli import app, tenants_app


def crash(api_key: str = "{SECRET}") -> None:
    client_secret = api_key.upper()
    raise RuntimeError("something went wrong")


app.command("crash")(crash)
tenants_app.command("crash")(crash)
app()
"""


@pytest.mark.parametrize("command", [["crash"], ["tenants", "crash"]], ids=["top level", "sub-command"])
def test_a_crash_shows_no_local_variable(command: list[str]) -> None:
    terminal_like = {"COLUMNS": "200", "FORCE_COLOR": "1", "TERM": "xterm-256color"}  # as rich would style a tty
    done = subprocess.run(
        [sys.executable, "-c", CRASHING, *command],
        env={**os.environ, **terminal_like},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # colours off, words intact
    assert done.returncode == 1
    assert "RuntimeError: something went wrong" in output  # the crash itself is reported
    assert SECRET not in output and SECRET.upper() not in output

"""How `tenants enable` takes secrets: never as an option's value, which `ps` and shell history would show."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from spotilla_procountor.app.credentials import ApiClient
from spotilla_procountor.app.secret_files import read_secret_file

NOT_ON_THE_COMMAND_LINE = (
    "secrets are never taken as option values, which `ps` and shell history show: give the API key at the prompt, "
    "on standard input or with --api-key-file PATH, and a client secret with --client-secret-file PATH"
)


class SecretNotGiven(ValueError):
    """A secret was not given the way it must be; the message says how to give it."""


def read_api_key(organization_id: int, path: Path | None) -> str:
    """From `path`; else a hidden prompt when standard input is a terminal; else one line of standard input.

    Raises SecretNotGiven, or SecretFileError for a file that cannot be read.
    """
    if path is not None:
        key = read_secret_file(path, what="--api-key-file")
    elif sys.stdin.isatty():
        key = typer.prompt(f"API key of organization {organization_id} (input hidden)", hide_input=True)
    else:
        key = sys.stdin.readline()
    key = key.strip()
    if not key:
        raise SecretNotGiven(
            "no API key was given: type it at the prompt, pipe it on standard input, or use --api-key-file PATH"
        )
    return key


def read_own_client(client_id: str | None, secret_file: Path | None) -> ApiClient | None:
    """The organization's own API client (`--client-id` with `--client-secret-file`), or None for the service's."""
    if client_id is None and secret_file is None:
        return None
    if client_id is None or not client_id.strip():
        raise SecretNotGiven("--client-secret-file needs --client-id: the id of the organization's own API client")
    if secret_file is None:
        raise SecretNotGiven(
            "--client-id needs --client-secret-file PATH: a file holding that API client's secret "
            "(without --client-id the integration's own client, SPOTILLA_PROCOUNTOR_CLIENT_ID, is used)"
        )
    return ApiClient(client_id.strip(), read_secret_file(secret_file, what="--client-secret-file"))

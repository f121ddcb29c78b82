"""Secrets read from files (container secrets, `--api-key-file`), with errors a person can act on in one line."""

from __future__ import annotations

from pathlib import Path


class SecretFileError(ValueError):
    """A secret file is missing, unreadable, not text, or empty; the message names the file and what to do."""


def read_secret_file(path: Path, *, what: str) -> str:
    """The file's text less one trailing newline (as `echo` or an editor leaves it); `what` names the setting.

    Only one newline goes: anything else in the file is taken to be part of the secret.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretFileError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SecretFileError(f"{what}: {path} is not a UTF-8 text file") from None
    secret = text.removesuffix("\n").removesuffix("\r")
    if not secret.strip():
        raise SecretFileError(f"{what}: {path} is empty")
    return secret

"""Structured logs: key=value for people or JSON for machines, with the run id on every line of a run."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_run: contextvars.ContextVar[dict[str, object]] = contextvars.ContextVar("run", default={})  # noqa: B039
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Belt and braces: whatever slips into a message, bearer tokens and credential-looking pairs are masked.
_SECRETS = re.compile(
    r"(?i)(bearer\s+|(?:client_secret|api_key|access_token|password)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',]+"
)


@contextmanager
def run_context(**fields: object) -> Iterator[None]:
    """Adds fields (run_id, organization_id) to every log line inside the block, also in worker threads."""
    token = _run.set({**_run.get(), **fields})
    try:
        yield
    finally:
        _run.reset(token)


def mask(text: str) -> str:
    return _SECRETS.sub(r"\1***", text)


def _fields(record: logging.LogRecord) -> dict[str, object]:
    extra = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    return {**_run.get(), **extra}


class KeyValueFormatter(logging.Formatter):
    """`2026-11-29T18:00:00Z INFO run finished run_id=3 organization_id=1 invoices.CREATED=12`."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pairs = " ".join(f"{k}={_quote(v)}" for k, v in _fields(record).items())
        line = f"{when} {record.levelname} {record.getMessage()} {pairs}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return mask(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **{k: v if isinstance(v, int | float | bool | None) else str(v) for k, v in _fields(record).items()},
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return mask(json.dumps(payload, ensure_ascii=False))


def _quote(value: object) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    """Installs the chosen formatter on the root logger (idempotent)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

"""Suite-wide: under CI=true, PostgreSQL tests must have run and passed, never been skipped; logging is reset."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

_postgres: dict[str, int] = {"passed": 0, "skipped": 0, "failed": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" not in report.keywords:
        return
    if report.when == "call" and report.passed:
        _postgres["passed"] += 1
    elif report.skipped:
        _postgres["skipped"] += 1
    elif report.failed:
        _postgres["failed"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = _postgres
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    terminalreporter.write_line(
        f"PostgreSQL tests: {counts['passed']} passed, {counts['skipped']} skipped, {counts['failed']} failed"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI", "").lower() != "true" or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    # Under xdist only the controller gets here (it sees every worker's reports, not the collected items).
    if _postgres["passed"] == 0 or _postgres["skipped"]:
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A command run in-process (CliRunner) installs a handler on the root logger that writes to the runner's
    stream, which is closed once the command returns; later log lines would then fail to be written."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)

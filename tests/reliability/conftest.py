"""Reliability suite plugin: each scenario records its figures; RELIABILITY.md is written from them at the end.

Set `SPOTILLA_PROCOUNTOR_RELIABILITY_REPORT=PATH` to write the table (`make reliability` does, at the repo root).
Figures travel as the test report's user_properties, so they reach the controller under pytest-xdist too.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from harness import SCALE, Figures

_collected: list[dict] = []
_started = time.monotonic()


@pytest.fixture
def figures(request: pytest.FixtureRequest):
    """The scenario's figures; recorded with the test's outcome when it ends."""
    recorded = Figures()
    started = time.monotonic()
    yield recorded
    row = {**asdict(recorded), "seconds": round(time.monotonic() - started, 1)}
    request.node.user_properties.append(("reliability", json.dumps(row)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == "reliability":
            _collected.append({"scenario": report.nodeid.split("::", 1)[-1], **json.loads(value)})


def _outcomes(session: pytest.Session) -> dict[str, str]:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    outcomes: dict[str, str] = {}
    for outcome in ("passed", "failed", "error"):
        for report in reporter.stats.get(outcome, []) if reporter else []:
            if getattr(report, "nodeid", None):
                key = report.nodeid.split("::", 1)[-1]
                outcomes[key] = "FAILED" if outcome != "passed" else outcomes.get(key, "passed")
    return outcomes


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("SPOTILLA_PROCOUNTOR_RELIABILITY_REPORT")
    if not target or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    outcomes = _outcomes(session)
    lines = [
        "# Reliability figures",
        "",
        "Written by `make reliability` (tests/reliability, marker `reliability`); never edited by hand.",
        f"Scale {SCALE:g} (`SPOTILLA_PROCOUNTOR_RELIABILITY_SCALE`), {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {round(time.monotonic() - _started)} s in all, "
        f"finished {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| Scenario | Result | Items | Faults injected | Kills | Runs | Duplicates | Missing | Held back with reason "
        "| Time (s) | Notes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in sorted(_collected, key=lambda r: r["scenario"]):
        notes = "; ".join(row["notes"]).replace("|", "\\|")
        lines.append(
            f"| `{row['scenario']}` | {outcomes.get(row['scenario'], '?')} | {row['items']} | {row['faults']} "
            f"| {row['kills']} | {row['runs']} | {row['duplicates']} | {row['missing']} | {row['held_back']} "
            f"| {row['seconds']} | {notes} |"
        )
    totals = {k: sum(r[k] for r in _collected) for k in ("items", "faults", "kills", "runs", "duplicates", "missing")}
    lines += ["", "Totals: " + ", ".join(f"{k} {v}" for k, v in totals.items()) + "."]
    Path(target).write_text("\n".join(lines) + "\n")


@pytest.fixture
def make_world(tmp_path: Path, figures: Figures):
    """Builds worlds (database + served fake + tenant) for the test; all are torn down after it."""
    from contextlib import ExitStack

    from harness import world

    with ExitStack() as stack:
        made = []

        def build(database: str = "postgres", fake=None):
            made.append(database)
            built = stack.enter_context(world(tmp_path / f"world{len(made)}", database=database, fake=fake))
            built.figures = figures
            return built

        yield build

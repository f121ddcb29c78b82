"""Smoke run of `python -m benchmarks`: it works end to end and writes valid JSON (figures are not asserted).

The benchmark is not part of the installed package: it is the top-level `benchmarks/` package of this repository,
run here as `make bench` runs it, in a child process that finds it through PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.loopback, pytest.mark.slow]
REPO_ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "requests", "requests_by_route", "requests_minimum", "minimum_by_route", "throttled_429", "wall_s",
    "lower_bound_s", "lower_bound_with_margin_s", "wall_over_bound", "requests_over_minimum", "sql_statements",
    "cpu_s", "cpu_system_s", "cpu_ms_per_unit", "cpu_unit", "peak_rss_kib", "process_max_rss_kib",
    "cpu_floor_ms_per_invoice",
}  # fmt: skip


def run_benchmarks(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m benchmarks ARGS` with the repository's `benchmarks` package importable from `cwd`."""
    env = {
        **os.environ,
        "COLUMNS": "200",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "benchmarks", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_a_tiny_benchmark_measures_every_scenario_both_ways_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["--scale", "0.01", "--latency-ms", "1", "--rate-limit", "500", "--json", str(out)]

    result = run_benchmarks(*args, "--compare-sequential", cwd=tmp_path)  # in tmp_path, no stray .env is read

    assert result.returncode == 0, result.stdout + result.stderr
    assert "initial" in result.stdout and "targets" in result.stdout
    figures = json.loads(out.read_text())
    measured = {(m["scenario"], m["mode"]) for m in figures["measurements"]}
    assert measured == {
        (s, mode) for s in ("initial", "steady", "idle", "tenants") for mode in ("concurrent", "sequential")
    }
    for measurement in figures["measurements"]:
        assert measurement.keys() >= FIGURES
        assert measurement["requests_minimum"] > 0
    assert set(figures["speedup_vs_sequential"]) == {"initial", "steady", "idle", "tenants"}
    assert {t["name"] for t in figures["targets"]} >= {"initial: wall time / lower bound", "idle: requests"}
    floor = figures["stack_floor"]
    assert 0 < floor["http_cpu_ms_per_request"] < floor["cpu_ms_per_create"]
    assert floor["commit_cpu_ms"] > 0
    initial = next(m for m in figures["measurements"] if m["scenario"] == "initial")
    assert initial["cpu_floor_ms_per_invoice"] > floor["cpu_ms_per_create"]  # more than one request per invoice
    assert "Stack floor on this machine" in result.stdout


def test_an_unknown_scenario_is_refused(tmp_path: Path) -> None:
    result = run_benchmarks("--scenario", "everything", cwd=tmp_path)

    assert result.returncode == 2
    assert "--scenario" in result.stdout


def test_the_service_does_not_import_the_benchmark() -> None:
    """The benchmark measures the service from outside; the installed package never reaches back into it."""
    importing = re.compile(r"^\s*(?:from|import)\s+benchmarks\b", re.MULTILINE)
    sources = (REPO_ROOT / "src").rglob("*.py")
    assert not [path for path in sources if importing.search(path.read_text(encoding="utf-8"))]

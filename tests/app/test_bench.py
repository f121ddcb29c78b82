"""Smoke run of `spotilla-procountor bench`: it works end to end and writes valid JSON (figures are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spotilla_procountor.app.cli import app

pytestmark = [pytest.mark.loopback, pytest.mark.slow]
FIGURES = {
    "requests", "requests_by_route", "requests_minimum", "minimum_by_route", "throttled_429", "wall_s",
    "lower_bound_s", "lower_bound_with_margin_s", "wall_over_bound", "requests_over_minimum", "sql_statements",
    "cpu_s", "cpu_system_s", "cpu_ms_per_unit", "cpu_unit", "peak_rss_kib", "process_max_rss_kib",
    "cpu_floor_ms_per_invoice",
}  # fmt: skip


def test_a_tiny_benchmark_measures_every_scenario_both_ways_and_writes_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "bench.json"
    args = ["bench", "--scale", "0.01", "--latency-ms", "1", "--rate-limit", "500", "--json", str(out)]

    result = CliRunner().invoke(app, [*args, "--compare-sequential"])

    assert result.exit_code == 0, result.output
    assert "initial" in result.output and "targets" in result.output
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
    assert "Stack floor on this machine" in result.output


def test_an_unknown_scenario_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(app, ["bench", "--scenario", "everything"])

    assert result.exit_code == 2
    assert "--scenario" in result.output

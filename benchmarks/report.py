"""The benchmark's figures as a table for people and JSON for machines, with issue 7's target ratios."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.floor import StackFloor
from benchmarks.scenarios import BenchOptions, BenchRun, Measurement

KIB_PER_MB = 1024


@dataclass(frozen=True)
class Target:
    """One of issue 7's targets, judged on this run's figures (printed, never asserted)."""

    name: str
    value: float
    limit: float
    at_most: bool = True

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.at_most else self.value >= self.limit


def speedups(results: Iterable[Measurement]) -> dict[str, float]:
    """Sequential wall time over concurrent wall time, per scenario measured both ways."""
    by_key = {(m.scenario, m.mode): m for m in results}
    return {
        scenario: by_key[scenario, "sequential"].wall_s / concurrent.wall_s
        for (scenario, mode), concurrent in by_key.items()
        if mode == "concurrent" and (scenario, "sequential") in by_key
    }


def targets(results: list[Measurement]) -> list[Target]:
    """The issue's targets that this run's scenarios can judge (SQL flatness needs two runs at two scales)."""
    found = {m.scenario: m for m in results if m.mode == "concurrent"}
    out: list[Target] = []
    if initial := found.get("initial"):
        out += [
            Target("initial: wall time / lower bound", initial.wall_over_bound, 1.15),
            Target("initial: requests / minimum", initial.requests_over_minimum, 1.02),
        ]
        if (gain := speedups(results).get("initial")) is not None:
            out.append(Target("initial: sequential / concurrent wall time", gain, 1.8, at_most=False))
    if idle := found.get("idle"):
        out += [Target("idle: requests", idle.requests, 3), Target("idle: wall time (s)", idle.wall_s, 2)]
    out += [
        Target(f"{m.scenario}: CPU ms per invoice", m.cpu_ms_per_unit, 2)
        for m in found.values()
        if m.cpu_unit == "invoice"
    ]
    peaks = [m.peak_rss_kib or m.process_max_rss_kib for m in found.values()]
    if peaks:
        out.append(Target("peak resident memory (MB)", max(peaks) / KIB_PER_MB, 250))
    if tenants := found.get("tenants"):
        out.append(Target(f"tenants: {tenants.cycles} idle tenants, wall time (s)", tenants.wall_s, 60))
    return out


def creates(measurement: Measurement) -> int:
    """Requests that created something (every POST but the token's)."""
    return sum(
        n for route, n in measurement.requests_by_route.items() if route.startswith("POST /") and "oauth" not in route
    )


def floor_per_invoice(measurement: Measurement, floor: StackFloor | None) -> float | None:
    """The bare stack's CPU for this scenario's requests and creates, per invoice created (None without one)."""
    if floor is None or not measurement.invoices_created:
        return None
    return floor.cpu_ms(requests=measurement.requests, creates=creates(measurement)) / measurement.invoices_created


def as_json(options: BenchOptions, run: BenchRun) -> dict:
    results = run.measurements
    return {
        "options": {**asdict(options), "json_path": str(options.json_path) if options.json_path else None},
        "environment": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "rate_limit_margin": run.rate_limit_margin,
        "limiter_rate_per_s": options.rate_limit / (1 + run.rate_limit_margin),
        "measurements": [{**m.as_json(), "cpu_floor_ms_per_invoice": floor_per_invoice(m, run.floor)} for m in results],
        "speedup_vs_sequential": speedups(results),
        "targets": [{**asdict(t), "met": t.met} for t in targets(results)],
        "stack_floor": run.floor.as_json() if run.floor else {"error": run.floor_error},
    }


def write_json(path: Path, options: BenchOptions, run: BenchRun) -> None:
    path.write_text(json.dumps(as_json(options, run), indent=2, default=str) + "\n", encoding="utf-8")


def _mb(kib: int | None) -> str:
    return "—" if kib is None else f"{kib / KIB_PER_MB:.0f}"


def figures_table(options: BenchOptions, run: BenchRun) -> Table:
    margin = run.rate_limit_margin
    table = Table(
        title=f"spotilla-procountor bench: {options.database}, scale {options.scale:g}, "
        f"{options.latency_ms:g} ms latency, {options.rate_limit}/s limit "
        f"(the limiter keeps {margin:.0%} under it: {options.rate_limit / (1 + margin):.1f}/s)"
    )
    columns = ("scenario", "mode", "requests", "minimum", "req/min", "429s", "wall s", "bound s", "wall/bound",
               "bound+margin s", "SQL", "CPU ms/unit", "peak MB")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("scenario", "mode") else "right")
    for m in run.measurements:
        table.add_row(
            m.scenario, m.mode, str(m.requests), str(m.requests_minimum), f"{m.requests_over_minimum:.3f}",
            str(m.throttled_429), f"{m.wall_s:.2f}", f"{m.lower_bound_s:.2f}", f"{m.wall_over_bound:.2f}",
            f"{m.lower_bound_with_margin_s:.2f}", str(m.sql_statements), f"{m.cpu_ms_per_unit:.2f}/{m.cpu_unit}",
            _mb(m.peak_rss_kib),
        )  # fmt: skip
    return table


def targets_table(results: list[Measurement]) -> Table:
    table = Table(title="Issue 7 targets (this run)")
    for column in ("target", "value", "limit", "met"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for target in targets(results):
        sign = "≤" if target.at_most else "≥"
        table.add_row(target.name, f"{target.value:.3g}", f"{sign} {target.limit:g}", "yes" if target.met else "NO")
    return table


def floor_lines(run: BenchRun) -> list[str]:
    """The stack's floor, and each invoice-making scenario's CPU against it."""
    floor = run.floor
    if floor is None:
        return [f"Stack floor: not measured ({run.floor_error})."]
    lines = [
        f"Stack floor on this machine, nothing of ours in the way: a bare httpx request "
        f"{floor.http_cpu_ms_per_request:.2f} ms CPU, a commit {floor.commit_cpu_ms:.2f} ms; a create (one POST, two "
        f"commits) {floor.cpu_ms_per_create:.2f} ms."
    ]
    for m in run.measurements:
        if (at_floor := floor_per_invoice(m, floor)) is not None:
            lines.append(
                f"{m.scenario} ({m.mode}): {m.requests} requests and {creates(m)} creates for {m.invoices_created} "
                f"invoices, so the floor is {at_floor:.2f} ms CPU per invoice; measured {m.cpu_ms_per_unit:.2f} ms "
                f"({m.cpu_ms_per_unit / at_floor:.2f}× the floor)."
            )
    return lines


def print_report(console: Console, options: BenchOptions, run: BenchRun) -> None:
    """The figures, the sequential ratios, the floor and the targets; wide enough not to fold in a file."""
    if not console.is_terminal:
        console = Console(file=console.file, width=max(console.width, 170))
    results = run.measurements
    console.print(figures_table(options, run))
    for scenario, gain in speedups(results).items():
        console.print(f"{scenario}: one request at a time takes {gain:.2f}× as long as concurrent")
    for line in floor_lines(run):
        console.print(line)
    console.print(targets_table(results))

"""`python -m benchmarks` (from the repository root; `make bench` runs it): every option explains itself with --help."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from benchmarks.report import print_report, write_json
from benchmarks.scenarios import SCENARIOS, BenchOptions, run_benchmark
from spotilla_procountor.app.logs import configure_logging

app = typer.Typer(add_completion=False)


@app.command()
def bench(
    *,
    latency_ms: Annotated[float, typer.Option(help="Latency the fake Procountor adds to each request.")] = 100,
    rate_limit: Annotated[int, typer.Option(help="Requests per second allowed per credential.")] = 20,
    database: Annotated[
        str, typer.Option(help="sqlite | postgres (at SPOTILLA_PROCOUNTOR_TEST_POSTGRES_URL).")
    ] = "sqlite",
    scale: Annotated[float, typer.Option(help="Multiplies the data sizes and the tenant count.")] = 1.0,
    scenario: Annotated[
        list[str] | None, typer.Option(help="initial | steady | idle | tenants; repeat for several (default all).")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write every figure to this JSON file.")] = None,
    compare_sequential: Annotated[
        bool, typer.Option("--compare-sequential", help="Also run each scenario with one request at a time.")
    ] = False,
) -> None:
    """Benchmark the service against a fake Procountor on loopback: requests, time, SQL, CPU and memory."""
    unknown = sorted(set(scenario or ()) - set(SCENARIOS))
    if unknown or database not in ("sqlite", "postgres") or scale <= 0:
        Console().print(
            f"[bold red]Error:[/] use --scenario from {', '.join(SCENARIOS)}, --database sqlite|postgres"
            " and a positive --scale"
        )
        raise typer.Exit(code=2)
    options = BenchOptions(
        latency_ms=latency_ms,
        rate_limit=rate_limit,
        database=database,
        scale=scale,
        scenarios=tuple(scenario or SCENARIOS),
        json_path=json_path,
        compare_sequential=compare_sequential,
    )
    configure_logging("text", "WARNING")
    run = run_benchmark(options)
    print_report(Console(), options, run)  # made now, so the terminal width (and COLUMNS) of the moment applies
    if json_path is not None:
        write_json(json_path, options, run)


if __name__ == "__main__":
    app(prog_name="python -m benchmarks")

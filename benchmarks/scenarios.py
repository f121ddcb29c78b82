"""`python -m benchmarks`: the real service against a fake Procountor on loopback, measured per scenario.

Each mode (concurrent, and with --compare-sequential one request at a time) gets a fresh database and a reset
fake; within a mode the scenarios run in the order initial → steady → idle → tenants, because each one starts
from the state the previous one left. A scenario that was not asked for but is needed as a starting point
runs unmeasured.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from math import ceil
from pathlib import Path

from benchmarks.environment import (
    FakeProcountorProcess,
    PeakMemory,
    StatementCounter,
    database_url,
    insert_steady_work,
    large_size,
    request_counts,
)
from benchmarks.floor import StackFloor, measure_floor
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.app.container import build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.state import EntityKind, RecordState
from spotilla_procountor.domain.sync import SyncReport

SCENARIOS = ("initial", "steady", "idle", "tenants")
MODES = ("concurrent", "sequential")
PAGE = 200  # Procountor's page size and batch size
ORG = 1
TENANT_BASE = 1000
CLIENT_ID, CLIENT_SECRET, API_KEY = "demo-client", "demo-secret", "demo-api-key"  # the fake's published demo ones
IBAN = "FI4950009420028730"
STEADY = {"tasks": 50, "customers": 20, "edited_partners": 20}
TENANT_SIZE = DemoSize(customers=0, products=3, tasks=5, bad_customer_share=0.0)


@dataclass(frozen=True)
class BenchOptions:
    """What the command was asked to do."""

    latency_ms: float = 100
    rate_limit: int = 20
    database: str = "sqlite"
    scale: float = 1.0
    scenarios: tuple[str, ...] = SCENARIOS
    json_path: Path | None = None
    compare_sequential: bool = False


@dataclass
class Work:
    """What a perfect client must do in a scenario, from which its minimum of requests follows."""

    cycles: int = 1
    cycles_with_new_products: int = 0
    products_in_procountor: int = 0
    partners_changed_elsewhere: int = 0
    created: Counter[str] = field(default_factory=Counter)

    def minimum(self) -> dict[str, int]:
        """One token per gateway (one per tenant cycle); per cycle with new products one VAT read and every page of
        Procountor's products (to match codes before creating); per cycle ceil(n/200) pages of the partners changed
        by someone else since the last pull (at least one page, to learn that nothing changed) and ceil(n/200)
        batch reads of their details; one create per new object."""
        product_pages = ceil(max(1, self.products_in_procountor) / PAGE)
        per_cycle_pages = ceil(max(1, self.partners_changed_elsewhere) / PAGE)
        return {
            "POST /oauth/token": self.cycles,
            "GET /vats/default": self.cycles_with_new_products,
            "GET /products": self.cycles_with_new_products * product_pages,
            "GET /businesspartners": self.cycles * per_cycle_pages,
            "GET /businesspartners/{ids}": ceil(self.partners_changed_elsewhere / PAGE),
            "POST /products": self.created["products"],
            "POST /businesspartners": self.created["customers_out"],
            "POST /invoices": self.created["invoices"],
        }


@dataclass
class Measurement:
    """Every figure of one scenario in one mode."""

    scenario: str
    mode: str
    cycles: int
    requests: int
    requests_by_route: dict[str, int]
    throttled_429: int
    requests_minimum: int
    minimum_by_route: dict[str, int]
    wall_s: float
    lower_bound_s: float  # max(minimum / limit, latency): what the rate limit and the latency allow at best
    lower_bound_with_margin_s: float  # the same at the rate the limiter keeps to (limit / (1 + margin))
    sql_statements: int
    cpu_s: float
    cpu_system_s: float  # of cpu_s, the kernel's share (syscalls: sockets, fsync, thread wake-ups)
    invoices_created: int
    cpu_ms_per_unit: float
    cpu_unit: str
    peak_rss_kib: int | None
    process_max_rss_kib: int
    run_counts: dict[str, int]

    @property
    def wall_over_bound(self) -> float:
        return self.wall_s / self.lower_bound_s

    @property
    def requests_over_minimum(self) -> float:
        return self.requests / self.requests_minimum if self.requests_minimum else float("inf")

    def as_json(self) -> dict:
        figures = dict(vars(self))
        figures.update(
            wall_over_bound=self.wall_over_bound,
            requests_over_minimum=self.requests_over_minimum,
            cpu_ms_per_request=1000 * self.cpu_s / self.requests if self.requests else None,
        )
        return figures


def _created(reports: list[SyncReport]) -> Counter[str]:
    created: Counter[str] = Counter()
    for report in reports:
        for key, count in report.counts.items():
            flow, _, outcome = key.partition(".")
            if outcome == "CREATED":
                created[flow] += count
    return created


def _run_counts(reports: list[SyncReport]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for report in reports:
        total.update(report.counts)
        total[f"runs.{report.status}"] += 1
    return dict(sorted(total.items()))


class Bench:
    """One mode's run: its own database, container and settings, against the shared fake Procountor."""

    def __init__(self, options: BenchOptions, fake: FakeProcountorProcess, url: str, mode: str) -> None:
        sequential = mode == "sequential"
        self.options, self.fake, self.mode = options, fake, mode
        one_at_a_time = {"sync_workers": 1, "max_in_flight": 1, "tenant_concurrency": 1} if sequential else {}
        self.settings = Settings(
            database_url=url,
            secret_key=new_key(),
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            procountor_adapter="http",
            rate_limit_per_s=options.rate_limit,
            log_level="WARNING",
            _env_file=None,
            **one_at_a_time,
        )
        self.container = build_container(self.settings)
        self.engine = self.container.engine()
        upgrade_database(self.engine)
        self.statements = StatementCounter(self.engine)
        self.service = self.container.sync_service()
        self.tenants = self.container.tenants()
        self.memory = PeakMemory()
        self.results: list[Measurement] = []

    def close(self) -> None:
        self.engine.dispose()

    def run(self, wanted: tuple[str, ...]) -> list[Measurement]:
        large = [s for s in ("initial", "steady", "idle") if s in wanted]
        if large:
            self._setup_large()
            self._initial(measured="initial" in wanted)
            if "steady" in wanted:
                self._steady()
            if "idle" in wanted:
                self._idle()
        if "tenants" in wanted:
            self._tenants()
        return self.results

    # ------------------------------------------------------------ scenarios

    def _setup_large(self) -> None:
        generate_demo_data(self.engine, organization_id=ORG, size=large_size(self.options.scale), seed=1)
        self.tenants.enable(
            ORG,
            API_KEY,
            environment=self.fake.url,
            bank_account=IBAN,
            verify=False,
            tasks_completed_from=date(2000, 1, 1),
        )

    def _initial(self, *, measured: bool) -> None:
        if not measured:
            self.service.sync(ORG)
            return
        work = Work(cycles_with_new_products=1)
        self._measure("initial", work, lambda: [self.service.sync(ORG)])

    def _next_scheduled_cycle(self) -> None:
        """The schedule runs a tenant's cycles `interval_minutes` apart; the benchmark runs them back to back, so
        Procountor's clock is moved on by that much instead. Otherwise every change of the previous cycle would
        still be inside the partner pull's overlap, which production never sees with 30 minutes between runs."""
        self.fake.advance_clock(self.settings.interval_minutes * 60)

    def _steady(self) -> None:
        self._next_scheduled_cycle()
        state = self.container.state()
        products = sorted(state.records(ORG, EntityKind.PRODUCT, states=[RecordState.LINKED]))
        insert_steady_work(
            self.engine,
            organization_id=ORG,
            product_ids=products,
            customers=STEADY["customers"],
            tasks=STEADY["tasks"],
            seed=2,
        )
        customer_links = state.records(ORG, EntityKind.CUSTOMER, states=[RecordState.LINKED]).values()
        partners = sorted(v.procountor_id for v in customer_links if v.procountor_id)
        for partner_id in partners[: STEADY["edited_partners"]]:
            self.fake.edit_partner(partner_id, {"paymentInfo": {"paymentTermDays": "45"}})
        work = Work(partners_changed_elsewhere=min(len(partners), STEADY["edited_partners"]))
        self._measure("steady", work, lambda: [self.service.sync(ORG)])

    def _idle(self) -> None:
        self._next_scheduled_cycle()
        self._measure("idle", Work(), lambda: [self.service.sync(ORG)])

    def _tenants(self) -> None:
        """Small tenants sharing the fake's one credential (so one rate limiter) and its one company."""
        self.fake.reset()  # the large tenant's objects would be every small tenant's partners to pull
        if any(config.organization_id == ORG for config in self.tenants.list()):
            self.tenants.disable(ORG)
        count = max(1, round(200 * self.options.scale))
        for number in range(count):
            org = TENANT_BASE + number
            generate_demo_data(self.engine, organization_id=org, size=TENANT_SIZE, seed=org)
            self.tenants.enable(
                org,
                API_KEY,
                environment=self.fake.url,
                bank_account=IBAN,
                verify=False,
                tasks_completed_from=date(2000, 1, 1),
            )
        self.service.sync_all()  # their first cycles: products created or linked, tasks judged
        self._next_scheduled_cycle()
        self._measure("tenants", Work(cycles=count), self.service.sync_all)

    # ------------------------------------------------------------ measuring

    def _measure(self, scenario: str, work: Work, action: Callable[[], list[SyncReport]]) -> None:
        log_start = len(self.fake.request_log())
        statements = self.statements.count
        self.memory.reset()
        cpu, wall, system = time.process_time(), time.perf_counter(), os.times().system
        reports = action()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        system = os.times().system - system
        peak = self.memory.peak_kib()
        max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        statements = self.statements.count - statements
        routes, throttled = request_counts(self.fake.request_log()[log_start:])
        work.created = _created(reports)
        taken = {"wall": wall, "cpu": cpu, "system": system, "statements": statements, "peak": peak, "max_rss": max_rss}
        self.results.append(self._figures(scenario, work, reports, routes, throttled, **taken))

    def _figures(
        self, scenario, work, reports, routes, throttled, *, wall, cpu, system, statements, peak, max_rss
    ) -> Measurement:
        minimum = {k: v for k, v in work.minimum().items() if v}
        needed = sum(minimum.values())
        rate, latency_s = self.options.rate_limit, self.options.latency_ms / 1000
        invoices = work.created["invoices"]
        units, unit = (invoices, "invoice") if invoices else (work.cycles, "cycle")
        return Measurement(
            scenario=scenario,
            mode=self.mode,
            cycles=work.cycles,
            requests=sum(routes.values()),
            requests_by_route=dict(sorted(routes.items())),
            throttled_429=throttled,
            requests_minimum=needed,
            minimum_by_route=minimum,
            wall_s=wall,
            lower_bound_s=max(needed / rate, latency_s),
            lower_bound_with_margin_s=max(needed / (rate / (1 + self.settings.rate_limit_margin)), latency_s),
            sql_statements=statements,
            cpu_s=cpu,
            cpu_system_s=system,
            invoices_created=invoices,
            cpu_ms_per_unit=1000 * cpu / units,
            cpu_unit=unit,
            peak_rss_kib=peak,
            process_max_rss_kib=max_rss,
            run_counts=_run_counts(reports),
        )


@dataclass
class BenchRun:
    """Every scenario's figures, and the bare stack's CPU floor measured against the same fake and database."""

    measurements: list[Measurement]
    floor: StackFloor | None
    floor_error: str | None
    rate_limit_margin: float


def run_benchmark(options: BenchOptions) -> BenchRun:
    """Every asked-for scenario in every asked-for mode; the fake Procountor runs in a child process throughout."""
    wanted = tuple(s for s in SCENARIOS if s in options.scenarios)
    modes = MODES if options.compare_sequential else MODES[:1]
    results: list[Measurement] = []
    margin = Settings(_env_file=None).rate_limit_margin  # what every Bench's settings take from the environment
    fake = FakeProcountorProcess(latency_ms=options.latency_ms, rate_limit=options.rate_limit)
    try:
        with tempfile.TemporaryDirectory(prefix="spotilla-bench-") as folder:
            for mode in modes:
                fake.reset()
                with database_url(options.database, Path(folder)) as url:
                    bench = Bench(options, fake, url, mode)
                    try:
                        results += bench.run(wanted)
                    finally:
                        bench.close()
            floor, floor_error = _floor(options, fake, Path(folder))
    finally:
        fake.close()
    return BenchRun(results, floor, floor_error, margin)


def _floor(options: BenchOptions, fake: FakeProcountorProcess, folder: Path) -> tuple[StackFloor | None, str | None]:
    """The stack's floor, or why it could not be measured (the scenarios' figures are reported either way)."""
    fake.reset()
    try:
        with database_url(options.database, folder) as url:
            return measure_floor(fake.url, url, rate_limit=options.rate_limit), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"

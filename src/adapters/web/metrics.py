"""The service's Prometheus counters and histograms, in a registry of its own (never the global one)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from spotilla_procountor.adapters.procountor_http.ratelimit import RateLimiter
from spotilla_procountor.domain.state import Flow, Outcome, RunStatus
from spotilla_procountor.domain.sync import SyncReport

PREFIX = "spotilla_procountor_"
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
"""Seconds: an idle cycle takes about a second, a large tenant's first one can take an hour."""
RUN_ENDINGS = tuple(s for s in RunStatus if s != RunStatus.RUNNING)
ITEM_OUTCOMES = tuple(o for o in Outcome if o not in (Outcome.WOULD_CREATE, Outcome.WOULD_UPDATE))


class ServiceMetrics:
    """What the service counts as it works: runs, items, requests to Procountor, 429s, cycle durations, limiters.

    Satisfies `ProcountorObserver` (given to the gateway factory) and `RunObserver` (given to the sync service).
    Series are created at zero where their labels are known beforehand (items by flow and outcome; a tenant's
    run statuses from its first run on), so that `increase()` sees the first event too.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # No `_created` twin of every counter and histogram series: it would double what Prometheus stores, and the
        # alerts use increase() and rate(), which do not need it. (prometheus-client's switch is process-wide.)
        disable_created_metrics()
        self.registry = registry or CollectorRegistry()
        self._runs = Counter(
            PREFIX + "runs",
            "Runs by tenant and how they ended (SKIPPED: another process was running the tenant).",
            ["organization_id", "status"],
            registry=self.registry,
        )
        self._items = Counter(
            PREFIX + "items",
            "Items handled by runs, by flow and outcome (counted when the run ends).",
            ["flow", "outcome"],
            registry=self.registry,
        )
        self._requests = Counter(
            PREFIX + "api_requests",
            "Requests to Procountor by method, route template and HTTP status (no_answer: none came).",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._throttled = Counter(
            PREFIX + "api_throttled", "Answers 429 (too many requests) from Procountor.", registry=self.registry
        )
        self._duration = Histogram(
            PREFIX + "cycle_duration_seconds",
            "How long tenants' cycles took (skipped runs left out); one histogram for the service, not one per tenant "
            "(15 series each would outgrow every other metric).",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        for flow in Flow:
            for outcome in ITEM_OUTCOMES:
                self._items.labels(flow.value, outcome.value)
        self._limiters = _LimiterCollector()
        self.registry.register(self._limiters)

    # -- RunObserver -------------------------------------------------------------------------------

    def run_finished(self, report: SyncReport, seconds: float) -> None:
        """Counts the run, its items by flow and outcome, and (unless it was skipped) its duration."""
        if report.dry_run:
            return
        org = str(report.organization_id)
        for status in RUN_ENDINGS:
            self._runs.labels(org, status.value)
        self._runs.labels(org, RunStatus(report.status).value).inc()
        for key, count in report.counts.items():
            flow, _, outcome = key.partition(".")
            if count:
                self._items.labels(flow, outcome).inc(count)
        if report.status != RunStatus.SKIPPED:
            self._duration.observe(seconds)

    # -- ProcountorObserver ------------------------------------------------------------------------

    def answered(self, method: str, route: str, status: str) -> None:
        self._requests.labels(method, route, status).inc()

    def throttled(self) -> None:
        self._throttled.inc()

    def watch_rate_limiter(self, *, client_id: str, base_url: str, limiter: RateLimiter) -> None:
        self._limiters.watch(client_id, base_url, limiter)


class _LimiterCollector(Collector):
    """Reads every rate limiter at scrape time: its margin now (429s widen it) and how long a request would wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limiters: dict[tuple[str, str], RateLimiter] = {}

    def watch(self, client_id: str, base_url: str, limiter: RateLimiter) -> None:
        with self._lock:
            self._limiters[(client_id, base_url)] = limiter

    def describe(self) -> list[GaugeMetricFamily]:
        return list(self._families())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        margin, queue = self._families()
        with self._lock:
            limiters = list(self._limiters.items())
        for labels, limiter in limiters:
            margin.add_metric(labels, limiter.current_margin)
            queue.add_metric(labels, limiter.queue_s())
        yield margin
        yield queue

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        labels = ["client_id", "base_url"]
        return (
            GaugeMetricFamily(
                PREFIX + "rate_limit_margin_ratio",
                "How far under Procountor's rate limit the limiter keeps now (RATE_LIMIT_MARGIN, widened by 429s).",
                labels=labels,
            ),
            GaugeMetricFamily(
                PREFIX + "rate_limit_queue_seconds",
                "How long a request asking now would wait for its turn (0: headroom now).",
                labels=labels,
            ),
        )

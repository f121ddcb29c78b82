"""Gauges read at scrape time: readiness, the database, and per tenant its open items and last success."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from spotilla_procountor.adapters.spotilla_sql.health_queries import ItemCounts
from spotilla_procountor.adapters.web.metrics import PREFIX
from spotilla_procountor.app.health import HealthReading, ServiceHealth
from spotilla_procountor.domain.state import EntityKind

_ORG = ["organization_id"]
_ORG_KIND = ["organization_id", "kind"]


class HealthCollector(Collector):
    """Reads `ServiceHealth` once per scrape (two statements, however many tenants) and reports it as gauges.

    Per enabled tenant every gauge is there, at zero when nothing waits, so that an alert on it needs no
    `absent()`; only the last success is missing for a tenant that never had one.
    """

    def __init__(self, health: ServiceHealth) -> None:
        self._health = health

    def describe(self) -> list[GaugeMetricFamily]:
        return list(_families().values())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        reading = self._health.reading()
        families = _families()
        families["ready"].add_metric([], 0 if reading.reasons else 1)
        families["database_up"].add_metric([], 1 if reading.snapshot is not None else 0)
        _tenant_gauges(reading, families)
        for org, attempts in sorted(reading.scheduler.tenants.items()):
            if attempts.last_finished_at is not None:
                families["last_attempt"].add_metric([str(org)], attempts.last_finished_at.timestamp())
        yield from families.values()


def _tenant_gauges(reading: HealthReading, families: dict[str, GaugeMetricFamily]) -> None:
    if reading.snapshot is None:
        return
    for tenant in reading.snapshot.tenants:
        org = str(tenant.organization_id)
        counts = [
            (kind, reading.snapshot.items.get((tenant.organization_id, kind), ItemCounts())) for kind in EntityKind
        ]
        for kind, items in counts:
            families["held_back"].add_metric([org, kind.value], items.held_back)
            families["failed"].add_metric([org, kind.value], items.failed)
            families["in_doubt"].add_metric([org, kind.value], items.in_doubt)
        oldest = min((i.oldest_held_back_at for _, i in counts if i.oldest_held_back_at), default=None)
        age = (reading.now - oldest).total_seconds() if oldest is not None else 0.0
        families["oldest_held_back"].add_metric([org], max(0.0, age))
        if tenant.last_success_at is not None:
            families["last_success"].add_metric([org], tenant.last_success_at.timestamp())


def _families() -> dict[str, GaugeMetricFamily]:
    def gauge(name: str, help_text: str, labels: list[str] | None = None) -> GaugeMetricFamily:
        return GaugeMetricFamily(PREFIX + name, help_text, labels=labels or [])

    return {
        "ready": gauge("ready", "1 when /readyz answers 200: database reachable, scheduler alive, no tenant overdue."),
        "database_up": gauge("database_up", "1 when the integration's tables could be read at this scrape."),
        "held_back": gauge(
            "items_held_back", "Items waiting for their data to be fixed (before the start day left out).", _ORG_KIND
        ),
        "failed": gauge("items_failed", "Items Procountor refused (or an error hit), waiting for a retry.", _ORG_KIND),
        "in_doubt": gauge("items_in_doubt", "Creates whose answer was lost, looked up by the next run.", _ORG_KIND),
        "oldest_held_back": gauge(
            "oldest_held_back_age_seconds", "How long the longest-waiting held-back item has waited (0: none).", _ORG
        ),
        "last_success": gauge(
            "last_success_timestamp_seconds", "When the tenant's newest SUCCEEDED or PARTIAL run ended.", _ORG
        ),
        "last_attempt": gauge(
            "last_attempt_timestamp_seconds",
            "When this process last ended an attempt to run the tenant, however it ended (SKIPPED too).",
            _ORG,
        ),
    }

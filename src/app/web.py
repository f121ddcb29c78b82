"""Wires the `run` service's HTTP server: readiness over the database and scheduler, metrics, the FastAPI app."""

from __future__ import annotations

from datetime import timedelta

from spotilla_procountor.adapters.scheduler import TenantScheduler
from spotilla_procountor.adapters.spotilla_sql.health_queries import SqlHealthQueries
from spotilla_procountor.adapters.web.app import create_app
from spotilla_procountor.adapters.web.server import BackgroundServer, PortUnavailable
from spotilla_procountor.app.container import Container
from spotilla_procountor.app.health import ServiceHealth
from spotilla_procountor.app.health_metrics import HealthCollector

__all__ = ["PortUnavailable", "WebServer", "start_web_server"]


class WebServer:
    """The started server and what it reads; `stop()` after the scheduler has stopped."""

    def __init__(self, server: BackgroundServer, health: ServiceHealth) -> None:
        self.server = server
        self.health = health

    def stop(self) -> None:
        self.server.stop()
        self.health.close()


def start_web_server(container: Container, scheduler: TenantScheduler) -> WebServer:
    """Serves /healthz, /readyz and /metrics on HTTP_HOST:HTTP_PORT; raises `PortUnavailable` if it cannot listen."""
    settings = container.settings()
    health = ServiceHealth(
        queries=SqlHealthQueries(container.engine()),
        scheduler=scheduler,
        interval=timedelta(minutes=settings.interval_minutes),
        stopping=container.sync_service().stop,
    )
    registry = container.metrics().registry
    registry.register(HealthCollector(health))
    server = BackgroundServer(
        create_app(readiness=health, registry=registry), host=settings.http_host, port=settings.http_port
    )
    try:
        server.start()
    except PortUnavailable:
        health.close()
        raise
    return WebServer(server, health)

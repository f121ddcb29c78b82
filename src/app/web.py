"""Wires the `run` service's HTTP server: readiness over the database and scheduler, metrics, the FastAPI app."""

from __future__ import annotations

import logging
from datetime import timedelta

from spotilla_procountor.adapters.scheduler import TenantScheduler
from spotilla_procountor.adapters.spotilla_sql.health_queries import SqlHealthQueries
from spotilla_procountor.adapters.web.app import create_app
from spotilla_procountor.adapters.web.auth import Tokens
from spotilla_procountor.adapters.web.server import BackgroundServer, PortUnavailable
from spotilla_procountor.app.admin import IntegrationAdmin, RunRequests
from spotilla_procountor.app.container import Container
from spotilla_procountor.app.health import ServiceHealth
from spotilla_procountor.app.health_metrics import HealthCollector

log = logging.getLogger("spotilla_procountor.web")

__all__ = ["PortUnavailable", "WebServer", "integration_admin", "start_web_server", "tokens_for"]


class WebServer:
    """The started server and what it reads; `stop()` after the scheduler has stopped."""

    def __init__(self, server: BackgroundServer, health: ServiceHealth) -> None:
        self.server = server
        self.health = health

    def stop(self) -> None:
        self.server.stop()
        self.health.close()


def integration_admin(container: Container, runs: RunRequests | None = None) -> IntegrationAdmin:
    """The admin pages' use cases over the container's stores; `runs` is the scheduler that serves "Run now"."""
    settings = container.settings()
    client = container.service_client()
    return IntegrationAdmin(
        tenants=container.tenants(),
        state=container.state(),
        queries=SqlHealthQueries(container.engine()),
        names=container.spotilla(),
        sync=container.sync_service(),
        alerts=container.alerts(),
        admin_emails=container.alert_store().admin_emails,
        service_client_id=client.client_id if client else None,
        interval=timedelta(minutes=settings.interval_minutes),
        runs=runs,
    )


def tokens_for(container: Container) -> Tokens | None:
    """Checks sign-in tokens with WEB_JWT_SECRET; None when it is not set. Raises `WeakSecret` when too short."""
    settings = container.settings()
    if settings.web_jwt_secret is None:
        return None
    return Tokens(
        settings.web_jwt_secret.get_secret_value(),
        max_token_lifetime=timedelta(minutes=settings.web_token_max_minutes),
        session_lifetime=timedelta(hours=settings.web_session_hours),
    )


def start_web_server(container: Container, scheduler: TenantScheduler) -> WebServer:
    """Serves /healthz, /readyz, /metrics, the admin pages and the JSON API on HTTP_HOST:HTTP_PORT; raises
    `PortUnavailable` if it cannot listen, `WeakSecret` when WEB_JWT_SECRET is too short."""
    settings = container.settings()
    tokens = tokens_for(container)
    admin = integration_admin(container, scheduler)
    health = ServiceHealth(
        queries=SqlHealthQueries(container.engine()),
        scheduler=scheduler,
        interval=timedelta(minutes=settings.interval_minutes),
        stopping=container.sync_service().stop,
    )
    registry = container.metrics().registry
    registry.register(HealthCollector(health))
    server = BackgroundServer(
        create_app(readiness=health, registry=registry, admin=lambda: admin, tokens=lambda: tokens),
        host=settings.http_host,
        port=settings.http_port,
    )
    try:
        server.start()
    except PortUnavailable:
        health.close()
        raise
    if tokens is None:
        log.warning("WEB_JWT_SECRET is not set: the admin pages and the JSON API answer 503 until it is")
    return WebServer(server, health)

"""The composition root: one container wires settings, adapters and use cases; nothing is built at import."""

from __future__ import annotations

from dependency_injector import containers, providers

from spotilla_procountor.adapters.memory import SystemClock
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.alert_store import SqlAlertStore
from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.web.metrics import ServiceMetrics
from spotilla_procountor.app.alerts import mailer_for, run_alerts
from spotilla_procountor.app.credentials import CredentialCipher, service_client
from spotilla_procountor.app.gateways import GatewayFactory
from spotilla_procountor.app.service import SyncService, TenantService
from spotilla_procountor.app.settings import Settings


def _in_process_transport(fake: FakeProcountor):
    return fake.transport()


class Container(containers.DeclarativeContainer):
    """Configuration first, then gateways and stores as singletons, then the use cases."""

    config = providers.Configuration()
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(make_engine, config.database_url)
    spotilla = providers.Singleton(SqlSpotillaRepository, engine, clock=clock)
    state = providers.Singleton(SqlStateStore, engine, clock=clock)
    cipher = providers.Singleton(CredentialCipher, settings)

    fake_procountor = providers.Singleton(FakeProcountor)
    procountor_transport = providers.Selector(
        config.procountor_adapter,
        http=providers.Object(None),
        fake=providers.Singleton(_in_process_transport, fake_procountor),
    )
    metrics = providers.Singleton(ServiceMetrics)  # its own Prometheus registry, served by `run`
    gateways = providers.Singleton(GatewayFactory, settings=settings, transport=procountor_transport, observer=metrics)

    alert_store = providers.Singleton(SqlAlertStore, engine, clock=clock)
    mailer = providers.Singleton(mailer_for, settings)
    service_client = providers.Singleton(service_client, settings)
    alerts = providers.Singleton(
        run_alerts,
        settings=settings,
        store=alert_store,
        state=state,
        mailer=mailer,
        cipher=cipher,
        clock=clock,
        service_client=service_client,
    )
    tenants = providers.Factory(
        TenantService, state=state, cipher=cipher, gateways=gateways, service_client=service_client
    )
    sync_service = providers.Singleton(
        SyncService,
        settings=settings,
        spotilla=spotilla,
        state=state,
        clock=clock,
        gateways=gateways,
        tenants=tenants,
        alerts=alerts,
        observer=metrics,
    )


def build_container(settings: Settings | None = None) -> Container:
    """The container for these settings (read from the environment when not given)."""
    settings = settings or Settings()
    container = Container(settings=settings)
    container.config.from_dict(settings.model_dump())
    return container

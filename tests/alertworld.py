"""The alert tests' world: a tenant served by the fake Procountor over loopback, a real SMTP server catching mails.

The service runs as the container builds it, with one seam: its clock, which the tests move (a day, a week).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dependency_injector import providers
from sqlalchemy import Engine, text

from dbutil import empty_database
from smtputil import MailSink
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.service import Credentials
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.sync import SyncReport

ORG = 1
IBAN = "FI4950009420028730"
CREDENTIALS = Credentials("alert-client", "alert-secret-4d9e1b7a", "alert-apikey-77c0f2e1")
NEW_API_KEY = "alert-apikey-rotated-5e1a90"
COMPANY = {"company_id": 4242, "company_name": "Putkiliike Virtanen Oy", "company_business_id": "0112038-9"}
ADMIN, OPERATOR = "anna.virtanen@putkiliike.fi", "valvonta@integraattori.fi"


class SteppingClock:
    """The service's clock: real time when the test starts, then moved only by the test."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


@dataclass
class World:
    """The database, the fake Procountor (restartable on its port with another API key), the mail sink."""

    engine: Engine
    sink: MailSink
    clock: SteppingClock
    settings: Settings
    fake: FakeProcountor
    secret_key: str

    def __post_init__(self) -> None:
        self._served = self.fake.serve()
        self.url = self._served.url
        self.port = int(self.url.rsplit(":", 1)[1])
        self.containers: list[Container] = []
        self.tokens: set[str] = set()
        self.container = self.new_container()

    def new_container(self, **overrides: object) -> Container:
        """Another service process, as far as the database and the mail server can tell."""
        settings = Settings(**{**self.settings.model_dump(), **overrides}, _env_file=None)
        container = build_container(settings)
        container.clock.override(providers.Object(self.clock))
        self.containers.append(container)
        return container

    def sync(self, container: Container | None = None) -> SyncReport:
        return (container or self.container).sync_service().sync(ORG)

    def restart_procountor(self, api_key: str) -> None:
        """Procountor now takes another API key (the organization revoked the old one): same port, same company."""
        self.tokens |= set(self.fake.store.tokens)
        self._served.close()
        self.fake = FakeProcountor(
            client_id=CREDENTIALS.client_id, client_secret=CREDENTIALS.client_secret, api_key=api_key, **COMPANY
        )
        self._served = self.fake.serve(port=self.port)

    def requests(self) -> int:
        return len(self.fake.request_log)

    def enable(self, credentials: Credentials = CREDENTIALS) -> None:
        self.container.tenants().enable(
            ORG, credentials.api_key, environment=self.url, bank_account=IBAN, tasks_completed_from=date(2000, 1, 1)
        )

    def completed_tasks(self) -> list[int]:
        query = text("SELECT id FROM tasks WHERE organization_id = :org AND status = 'COMPLETED' ORDER BY id")
        with self.engine.connect() as connection:
            return list(connection.execute(query, {"org": ORG}).scalars())

    def give_order_number(self, task_id: int, order_number: str) -> None:
        """A task Procountor will refuse (its order number too long), changed now in Spotilla."""
        stmt = text("UPDATE tasks SET order_number = :n, updated_at = :at WHERE id = :id")
        with self.engine.begin() as connection:
            connection.execute(stmt, {"n": order_number, "at": self.clock.now().replace(tzinfo=None), "id": task_id})

    def set_status(self, task_id: int, status: str) -> None:
        """A task marked in progress again, or completed now."""
        completed = self.clock.now().replace(tzinfo=None) if status == "COMPLETED" else None
        stmt = text("UPDATE tasks SET status = :s, completed_at = :c, updated_at = :at WHERE id = :id")
        with self.engine.begin() as connection:
            connection.execute(stmt, {"s": status, "c": completed, "at": completed or datetime.now(), "id": task_id})

    def drop_business_id_of_customer_of(self, task_id: int) -> None:
        """A task held back until its customer's business ID is added in Spotilla."""
        stmt = text("UPDATE customers SET business_id = NULL WHERE id = (SELECT customer_id FROM tasks WHERE id = :id)")
        with self.engine.begin() as connection:
            connection.execute(stmt, {"id": task_id})

    def secrets(self) -> list[str]:
        """Every secret a mail must never hold: API keys, the client secret, bearer tokens, the stored ciphertext."""
        self.tokens |= set(self.fake.store.tokens)
        config = self.container.state().settings_row(ORG)
        stored = [config.client_secret_enc, config.api_key_enc] if config else []
        found = [CREDENTIALS.client_secret, CREDENTIALS.api_key, NEW_API_KEY, self.secret_key, *self.tokens, *stored]
        return [secret for secret in found if secret]  # a tenant on the service's API client stores no client secret

    def close(self) -> None:
        self._served.close()
        for container in self.containers:
            container.engine().dispose()


@contextmanager
def alert_world(backend: str, tmp_path: Path, **settings: object) -> Iterator[World]:
    """A migrated database with demo work of one organization, switched on against the fake, admins set."""
    with _engine(backend, tmp_path) as engine, MailSink() as sink:
        upgrade_database(engine)
        generate_demo_data(engine, organization_id=ORG, size=DemoSize(customers=6, products=3, tasks=12), seed=4)
        key = new_key()
        base = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            secret_key=key,
            client_id=CREDENTIALS.client_id,  # the integration's own API client; the tenant gives only its API key
            client_secret=CREDENTIALS.client_secret,
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            smtp_tls="none",
            smtp_from="integraatio@spotilla.fi",
            alert_operators=OPERATOR,
            _env_file=None,
        )
        fake = FakeProcountor(
            client_id=CREDENTIALS.client_id,
            client_secret=CREDENTIALS.client_secret,
            api_key=CREDENTIALS.api_key,
            **COMPANY,
        )
        merged = Settings(**{**base.model_dump(), **settings}, _env_file=None)
        world = World(engine, sink, SteppingClock(), merged, fake, key)
        try:
            world.enable()
            world.container.alert_store().set_admin_emails(ORG, [ADMIN])
            yield world
        finally:
            world.close()


@contextmanager
def _engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with empty_database(backend, tmp_path) as engine:
        yield engine

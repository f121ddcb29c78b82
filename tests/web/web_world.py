"""The world of the pages' tests: the service wired as `run` wires it, over a real database, the fake Procountor
served over HTTP on loopback, the real scheduler and the real web server on a free port of 127.0.0.1.

Organization 1 (Demo Huolto Oy) has demo data and starts switched off; its admin switches it on in the page with the
fake's API key. One of its completed tasks belongs to a customer without a business ID, so that the task is held
back until the customer is fixed in the database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.scheduler import TenantScheduler
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.web.auth import Role, Tokens
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, business_id_check_digit, generate_demo_data
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.app.web import start_web_server, tokens_for

ORG = 1
OTHER_ORG = 2
CLIENT_ID = "web-client"
CLIENT_SECRET = "canary-client-secret-7d41c2"
API_KEY = "canary-apikey-5e0b9f"
IBAN = "FI4950009420028730"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS_SETTING = "SPOTILLA_PROCOUNTOR_SCREENSHOTS"
"""A folder to save the pages' screenshots in (`docs/screenshots` refreshes the README's); else a temporary one."""


@dataclass
class Stack:
    """A running service: its web address, what it is made of, and the fake Procountor company behind it."""

    url: str
    container: Container
    fake: FakeProcountor
    tokens: Tokens
    held_back_customer: int
    held_back_task: int

    @property
    def engine(self) -> Engine:
        return self.container.engine()

    def launch_url(self, organization_id: int = ORG, role: Role = Role.ADMIN) -> str:
        token = self.tokens.issue(subject=f"{role}@example.fi", organization_id=organization_id, role=role)
        return f"{self.url}/launch?token={token}"


def settings_for(database_url: str, procountor_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=new_key(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        procountor_test_url=procountor_url,  # the page offers test and production; test is the fake here
        web_jwt_secret=secrets.token_urlsafe(48),
        http_host="127.0.0.1",
        http_port=0,
        interval_minutes=24 * 60,  # no scheduled run of its own during a test: runs come from "Run now"
        claim_grace_s=0,
        _env_file=None,
        secret_key_file=None,
        client_id_file=None,
        client_secret_file=None,
        web_jwt_secret_file=None,
    )


@contextmanager
def running_stack(database_url: str) -> Iterator[Stack]:
    """The service as `spotilla-procountor run` starts it, with organization 1's demo data; stopped on exit."""
    fake = FakeProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY)
    with ExitStack() as stack:
        served = stack.enter_context(fake.serve())
        container = build_container(settings_for(database_url, served.url))
        stack.callback(container.engine().dispose)
        upgrade_database(container.engine())
        generate_demo_data(container.engine(), organization_id=ORG, size=DemoSize(customers=6, products=4, tasks=10))
        customer, task = _break_one_customer(container.engine())
        service, tenants = container.sync_service(), container.tenants()
        scheduler = TenantScheduler(
            sync_tenant=service.sync,
            enabled_tenants=lambda: [c.organization_id for c in tenants.list() if c.enabled],
            interval_minutes=container.settings().interval_minutes,
            concurrency=2,
            refresh_seconds=3600,  # only "Run now" and "Retry" read the tenant list again: no run comes unasked
        )
        scheduler.start()
        stack.callback(scheduler.shutdown)
        web = start_web_server(container, scheduler)
        stack.callback(web.stop)
        tokens = tokens_for(container)
        assert tokens is not None
        yield Stack(f"http://127.0.0.1:{web.server.port}", container, fake, tokens, customer, task)


def _break_one_customer(engine: Engine) -> tuple[int, int]:
    """A completed, invoiceable task whose customer then loses its business ID: (customer id, task id)."""
    with engine.begin() as conn:
        task, customer = conn.execute(
            text(
                "SELECT t.id, t.customer_id FROM tasks t WHERE t.organization_id = :org AND t.status = 'COMPLETED' "
                "AND t.customer_id IS NOT NULL AND t.completed_at IS NOT NULL "
                "AND EXISTS (SELECT 1 FROM task_products p WHERE p.task_id = t.id) ORDER BY t.id LIMIT 1"
            ),
            {"org": ORG},
        ).one()
        conn.execute(text("UPDATE customers SET business_id = NULL WHERE id = :id"), {"id": customer})
    return customer, task


def fix_customer(stack: Stack, customer_id: int) -> str:
    """What a person does in Spotilla: gives the customer a valid business ID nobody else has (plain SQL)."""
    with stack.engine.connect() as conn:
        taken = set(conn.execute(text("SELECT business_id FROM customers")).scalars())
    for number in range(1_234_560, 1_300_000):
        digits = f"{number:07d}"
        check = business_id_check_digit(digits)
        value = f"{digits}-{check}"
        if check is not None and value not in taken:
            with stack.engine.begin() as conn:
                update = text("UPDATE customers SET business_id = :value WHERE id = :id")
                conn.execute(update, {"value": value, "id": customer_id})
            return value
    raise AssertionError("no free business ID found")


def chromium_or_skip() -> Path:
    """Debian's Chromium; under CI=true its absence fails the test (as PostgreSQL's does), else it skips it."""
    if CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


def screenshot_folder(fallback: Path) -> Path:
    chosen = os.environ.get(SCREENSHOTS_SETTING)
    folder = Path(chosen) if chosen else fallback
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium_args() -> list[str]:
    """Chromium's sandbox needs user namespaces, which root in a container does not get."""
    return ["--no-sandbox"] if os.geteuid() == 0 else []

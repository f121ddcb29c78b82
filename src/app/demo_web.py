"""`spotilla-procountor demo-web`: the service with its web pages on this machine, nothing configured: an embedded
database with demo data, a fake Procountor, and links that open the pages signed in."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.scheduler import TenantScheduler, serve_until_signalled
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.web.auth import Role, WeakSecret
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo import API_KEY, CLIENT_ID, CLIENT_SECRET, DEMO_IBAN, ORG
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.settings import ENV_PREFIX, Settings
from spotilla_procountor.app.web import PortUnavailable, start_web_server, tokens_for

LINK_LIFETIME = timedelta(minutes=15)


def run_demo_web(console: Console, *, port: int) -> int:
    """Serves the pages until Ctrl-C or SIGTERM; returns the exit code (2: the port cannot be listened on, or
    WEB_JWT_SECRET from the environment is too short)."""
    fake = FakeProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY)
    with tempfile.TemporaryDirectory(prefix="spotilla-procountor-demo-web-") as folder, fake.serve() as served:
        container = build_container(_settings(Path(folder), served.url, port))
        upgrade_database(container.engine())
        summary = generate_demo_data(container.engine(), organization_id=ORG, size=DemoSize(), seed=7)
        service, tenants = container.sync_service(), container.tenants()
        scheduler = TenantScheduler(
            sync_tenant=service.sync,
            enabled_tenants=lambda: [c.organization_id for c in tenants.list() if c.enabled],
            interval_minutes=container.settings().interval_minutes,
            concurrency=container.settings().tenant_concurrency,
        )
        try:
            web = start_web_server(container, scheduler)
        except (PortUnavailable, WeakSecret) as exc:
            Console(stderr=True, soft_wrap=True).print(f"[bold red]Error:[/] {exc}", highlight=False)
            return 2
        try:
            _tell(console, container, f"http://127.0.0.1:{web.server.port}", served.url, summary.tasks_completed)
            serve_until_signalled(scheduler, service.stop)
        finally:
            web.stop()
            container.engine().dispose()
    console.print("Demo stopped; its database is gone.")
    return 0


def _settings(folder: Path, procountor_url: str, port: int) -> Settings:
    """The demo's own settings: nothing of an operator's environment but the two secrets, when they are set."""
    return Settings(
        database_url=f"sqlite:///{folder / 'demo-web.sqlite3'}",
        secret_key=os.environ.get(f"{ENV_PREFIX}SECRET_KEY") or new_key(),
        web_jwt_secret=os.environ.get(f"{ENV_PREFIX}WEB_JWT_SECRET") or secrets.token_urlsafe(48),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        procountor_test_url=procountor_url,  # "Test" in the page's form is the fake Procountor
        http_host="127.0.0.1",
        http_port=port,
        _env_file=None,
        secret_key_file=None,
        client_id_file=None,
        client_secret_file=None,
        web_jwt_secret_file=None,
    )


def _tell(console: Console, container: Container, url: str, procountor_url: str, completed: int) -> None:
    tokens = tokens_for(container)
    assert tokens is not None  # the demo always sets WEB_JWT_SECRET

    def link(role: Role) -> str:
        token = tokens.issue(subject=f"demo-{role}", organization_id=ORG, role=role, lifetime=LINK_LIFETIME)
        return f"{url}/launch?token={token}"

    def say(line: str = "") -> None:  # whole lines: a link folded in two cannot be clicked
        console.print(line, soft_wrap=True, highlight=False)

    say(f"Demo Huolto Oy (organization {ORG}) has demo data: {completed} completed work orders to invoice.")
    say("The integration is switched off. Open the admin's page (signed in; the link works for 15 minutes):")
    say(f"\n  {link(Role.ADMIN)}\n")
    say("and switch it on with:")
    say(f"  API key           {API_KEY}  (the fake Procountor's)")
    say("  Environment       Test  (here: the fake Procountor)")
    say(f"  Bank account      {DEMO_IBAN}")
    say("  Transfer from     a day in the past, e.g. 1.1.2020, for the older work orders too")
    say("\nThe operators' overview of every organization:")
    say(f"\n  {link(Role.OPERATOR)}\n")
    say(f"What the fake Procountor holds: {procountor_url}/_fake/state")
    say("Ctrl-C stops the demo.")
    sys.stdout.flush()  # the links are wanted now, also when the output goes to a pipe

"""Command line: `spotilla-procountor COMMAND`; every command explains itself with --help."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console

from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import MissingSecretKey, new_key
from spotilla_procountor.app.logs import configure_logging
from spotilla_procountor.app.render import held_back_table, print_report, runs_table, tenants_table
from spotilla_procountor.app.service import Credentials, TenantNotConfigured
from spotilla_procountor.domain.errors import IntegrationError
from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.state import OPEN, EntityKind, RunStatus

app = typer.Typer(
    no_args_is_help=True, help="Spotilla ↔ Procountor: completed work orders become Procountor sales invoices."
)
db_app = typer.Typer(no_args_is_help=True, help="The database: create or upgrade the integration's tables.")
tenants_app = typer.Typer(no_args_is_help=True, help="Switch the integration on or off for an organization (tenant).")
app.add_typer(db_app, name="db")
app.add_typer(tenants_app, name="tenants")

OrgOption = Annotated[int | None, typer.Option("--organization", "-o", help="Only this organization (tenant) id.")]
POLICIES = {"all": TransferPolicy.ALL_COMPLETED, "with-order-number": TransferPolicy.WITH_ORDER_NUMBER}


def _console() -> Console:
    """Made when used, so the terminal width (and COLUMNS) of the moment applies."""
    return Console()


def _container() -> Container:
    container = build_container()
    settings = container.settings()
    configure_logging(settings.log_format, settings.log_level)
    return container


def _fail(message: str) -> typer.Exit:
    _console().print(f"[bold red]Error:[/] {message}")
    return typer.Exit(code=2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the integration's tables (and Spotilla's, where they do not exist yet)."""
    from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database

    container = _container()
    upgrade_database(container.engine())
    _console().print(f"Database is up to date: {container.engine().url.render_as_string(hide_password=True)}")


@app.command()
def keygen() -> None:
    """Print a new key for SPOTILLA_PROCOUNTOR_SECRET_KEY (encrypts tenants' credentials at rest)."""
    _console().print(new_key())


@tenants_app.command("enable")
def tenants_enable(
    organization: Annotated[int, typer.Argument(help="Spotilla organization id.")],
    client_id: Annotated[str, typer.Option(help="The integration's Procountor client id.")],
    client_secret: Annotated[
        str, typer.Option(help="The integration's Procountor client secret.", prompt=True, hide_input=True)
    ],
    api_key: Annotated[
        str, typer.Option(help="The API key the organization created in Procountor.", prompt=True, hide_input=True)
    ],
    environment: Annotated[str, typer.Option(help="test, production, or a Procountor base URL.")] = "test",
    policy: Annotated[str, typer.Option(help="all | with-order-number: which completed tasks to invoice.")] = "all",
    bank_account: Annotated[str | None, typer.Option(help="The organization's IBAN for invoices.")] = None,
) -> None:
    """Switch the integration on: checks the credentials with Procountor, then stores them encrypted."""
    if policy not in POLICIES:
        raise _fail(f"--policy must be one of {', '.join(POLICIES)}")
    try:
        _container().tenants().enable(
            organization,
            Credentials(client_id, client_secret, api_key),
            environment=environment,
            policy=POLICIES[policy],
            bank_account=bank_account,
        )
    except MissingSecretKey as exc:
        raise _fail(str(exc)) from None
    except (IntegrationError, ValueError) as exc:
        raise _fail(f"the integration was not switched on: {exc}") from None
    _console().print(f"Organization {organization} is switched on ({environment}, policy {POLICIES[policy]}).")


@tenants_app.command("disable")
def tenants_disable(organization: Annotated[int, typer.Argument(help="Spotilla organization id.")]) -> None:
    """Switch the integration off; links and history are kept for when it is switched on again."""
    try:
        _container().tenants().disable(organization)
    except TenantNotConfigured as exc:
        raise _fail(str(exc)) from None
    _console().print(f"Organization {organization} is switched off.")


@tenants_app.command("list")
def tenants_list() -> None:
    """List tenants and whether they are on (never shows a secret)."""
    _console().print(tenants_table(_container().tenants().list()))


@app.command()
def sync(
    organization: OrgOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would happen; write nothing anywhere.")] = False,
) -> None:
    """Run one cycle now: for one organization, or for every organization that is switched on."""
    container = _container()
    service = container.sync_service()
    try:
        if organization is not None:
            reports = [service.sync(organization, dry_run=dry_run)]
        elif dry_run:
            reports = [service.sync(c.organization_id, dry_run=True) for c in container.tenants().list() if c.enabled]
        else:
            reports = service.sync_all()
    except (TenantNotConfigured, MissingSecretKey) as exc:
        raise _fail(str(exc)) from None
    for report in reports:
        print_report(_console(), report)
    if any(r.status == RunStatus.FAILED for r in reports):
        raise typer.Exit(code=1)


@app.command()
def status(organization: OrgOption = None) -> None:
    """Last runs per organization, what is held back and why, failures, and the next scheduled run."""
    container = _container()
    state, settings = container.state(), container.settings()
    configs = container.tenants().list()
    for config in configs:
        if organization is not None and config.organization_id != organization:
            continue
        org = config.organization_id
        _console().rule(f"Organization {org} ({'on' if config.enabled else 'off'})")
        _console().print(runs_table(state.runs(org, limit=5), timedelta(minutes=settings.interval_minutes)))
        table = held_back_table(r for kind in EntityKind for r in state.records(org, kind, states=OPEN).values())
        _console().print(table if table is not None else "Nothing is held back.")
    if not configs:
        _console().print("No organization has switched the integration on yet (`spotilla-procountor tenants enable`).")


@app.command()
def run() -> None:
    """Run the service: every enabled organization every interval, 24/7, until SIGTERM or Ctrl-C."""
    from spotilla_procountor.adapters.scheduler import TenantScheduler, serve_until_signalled

    container = _container()
    service, tenants, settings = container.sync_service(), container.tenants(), container.settings()
    scheduler = TenantScheduler(
        sync_tenant=service.sync,
        enabled_tenants=lambda: [c.organization_id for c in tenants.list() if c.enabled],
        interval_minutes=settings.interval_minutes,
        concurrency=settings.tenant_concurrency,
    )
    serve_until_signalled(scheduler, service.stop)


@app.command("demo-data")
def demo_data(
    organization: Annotated[int, typer.Option("--organization", "-o", help="Organization id to fill.")],
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 0,
    customers: Annotated[int, typer.Option(help="How many customers.")] = 40,
    products: Annotated[int, typer.Option(help="How many products.")] = 15,
    tasks: Annotated[int, typer.Option(help="How many tasks.")] = 60,
) -> None:
    """Fill an organization with realistic Finnish demo data (companies, products, tasks in every status)."""
    from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data

    container = _container()
    size = DemoSize(customers=customers, products=products, tasks=tasks)
    summary = generate_demo_data(container.engine(), organization_id=organization, size=size, seed=seed)
    _console().print(
        f"Organization {organization}: {summary.customers} customers, {summary.products} products, "
        f"{summary.tasks} tasks ({summary.tasks_completed} completed)."
    )


@app.command()
def demo() -> None:
    """A complete demo on a fresh machine: embedded database, fake Procountor, two cycles, plain-words story."""
    from spotilla_procountor.app.demo import run_demo

    sys.exit(run_demo(_console()))


@app.command("fake-procountor")
def fake_procountor(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 = any free port).")] = 8765,
    client_id: Annotated[str, typer.Option(help="Accepted client id.")] = "demo-client",
    client_secret: Annotated[str, typer.Option(help="Accepted client secret.")] = "demo-secret",  # noqa: S107 - demo
    api_key: Annotated[str, typer.Option(help="Accepted API key.")] = "demo-api-key",
    token_lifetime: Annotated[float, typer.Option(help="Seconds a token lives.")] = 3600,
    rate_limit: Annotated[float | None, typer.Option(help="Requests per second per client before 429.")] = None,
    latency_ms: Annotated[float, typer.Option(help="Added latency per request.")] = 0,
    error_rate: Annotated[float, typer.Option(help="Share of requests answered with a 500.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the injected faults.")] = 0,
) -> None:
    """Serve a fake Procountor on this machine for demos and tests (state lives in memory)."""
    from spotilla_procountor.adapters.procountor_fake import run_fake_server

    run_fake_server(
        host=host,
        port=port,
        client_id=client_id,
        client_secret=client_secret,
        api_key=api_key,
        token_lifetime_s=token_lifetime,
        rate_limit_per_s=rate_limit,
        latency_ms=latency_ms,
        error_rate=error_rate,
        seed=seed,
    )


def main() -> None:
    app()

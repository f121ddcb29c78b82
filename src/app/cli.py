"""Command line: `spotilla-procountor COMMAND`; every command explains itself with --help."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console

from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import MissingSecretKey, new_key
from spotilla_procountor.app.logs import configure_logging
from spotilla_procountor.app.render import (
    before_start_note,
    held_back_table,
    print_report,
    runs_table,
    split_before_start,
    tenants_table,
)
from spotilla_procountor.app.service import Credentials, SanityLimits, TenantNotConfigured
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
    bank_account: Annotated[
        str | None, typer.Option(help="The organization's IBAN for invoices (required; spaces allowed).")
    ] = None,
    tasks_completed_from: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Invoice tasks completed on or after this day (YYYY-MM-DD, Finnish time); earlier ones never. "
            "Default: the day stored before, or today for a new organization.",
        ),
    ] = None,
    quantity_ceiling: Annotated[
        Decimal | None, typer.Option(help="Largest quantity of a product on one task (default 10000).")
    ] = None,
    invoice_total_ceiling: Annotated[
        Decimal | None, typer.Option(help="Largest invoice total in euros, VAT included (default 100000).")
    ] = None,
    completion_skew_minutes: Annotated[
        int | None,
        typer.Option(help="How far in the future a completion time may be, for clocks that differ (default 10)."),
    ] = None,
    switch_company: Annotated[
        bool,
        typer.Option(
            "--switch-company",
            help="Confirm that the credentials belong to another Procountor company than before: the old "
            "company's links and transfer records are kept as history and nothing more is sent there.",
        ),
    ] = False,
) -> None:
    """Switch the integration on: checks the credentials and learns their Procountor company, then stores them."""
    if policy not in POLICIES:
        raise _fail(f"--policy must be one of {', '.join(POLICIES)}")
    start = tasks_completed_from.date() if tasks_completed_from is not None else None
    try:
        config = (
            _container()
            .tenants()
            .enable(
                organization,
                Credentials(client_id, client_secret, api_key),
                environment=environment,
                policy=POLICIES[policy],
                bank_account=bank_account,
                tasks_completed_from=start,
                switch_company=switch_company,
                limits=SanityLimits(quantity_ceiling, invoice_total_ceiling, completion_skew_minutes),
            )
        )
    except MissingSecretKey as exc:
        raise _fail(str(exc)) from None
    except (IntegrationError, ValueError) as exc:
        raise _fail(f"the integration was not switched on: {exc}") from None
    company = f", Procountor company {config.company_name} ({config.company_business_id})" if config.company_id else ""
    since = f", tasks completed from {config.tasks_completed_from}" if config.tasks_completed_from else ""
    _console().print(
        f"Organization {organization} is switched on ({environment}, policy {POLICIES[policy]}{company}{since})."
    )


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
        records = [r for kind in EntityKind for r in state.records(org, kind, states=OPEN).values()]
        waiting, before_start = split_before_start(records)
        table = held_back_table(waiting)
        _console().print(table if table is not None else "Nothing is held back.")
        if before_start:
            _console().print(before_start_note(before_start, config.tasks_completed_from))
    if not configs:
        _console().print("No organization has switched the integration on yet (`spotilla-procountor tenants enable`).")


@app.command()
def retry(
    organization: Annotated[int, typer.Option("--organization", "-o", help="Organization (tenant) id.")],
    task: Annotated[list[int] | None, typer.Option(help="A task to try again (repeatable).")] = None,
    customer: Annotated[list[int] | None, typer.Option(help="A customer to try again (repeatable).")] = None,
    product: Annotated[list[int] | None, typer.Option(help="A product to try again (repeatable).")] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every item Procountor refused or that is held back.")
    ] = False,
) -> None:
    """Let the next run (or `sync`) try items Procountor refused once more, once their cause is fixed."""
    chosen = {EntityKind.TASK: task, EntityKind.CUSTOMER: customer, EntityKind.PRODUCT: product}
    if not all_failed and not any(chosen.values()):
        raise _fail("say what to try again: --task, --customer, --product (each repeatable) or --all-failed")
    tenants = _container().tenants()
    try:
        if all_failed:
            count = tenants.retry(organization)
        else:
            count = sum(tenants.retry(organization, kind, ids) for kind, ids in chosen.items() if ids)
    except TenantNotConfigured as exc:
        raise _fail(str(exc)) from None
    _console().print(
        f"Organization {organization}: {count} refused or held-back item(s) are tried again on the next run."
    )


@app.command()
def run() -> None:
    """Run the service: every enabled organization every interval, 24/7, until SIGTERM or Ctrl-C.

    Serves /healthz, /readyz and /metrics on HTTP_HOST:HTTP_PORT meanwhile.
    """
    from spotilla_procountor.adapters.scheduler import TenantScheduler, serve_until_signalled
    from spotilla_procountor.app.web import PortUnavailable, start_web_server

    container = _container()
    service, tenants, settings = container.sync_service(), container.tenants(), container.settings()
    scheduler = TenantScheduler(
        sync_tenant=service.sync,
        enabled_tenants=lambda: [c.organization_id for c in tenants.list() if c.enabled],
        interval_minutes=settings.interval_minutes,
        concurrency=settings.tenant_concurrency,
    )
    try:  # health and metrics (HTTP_HOST:HTTP_PORT); a port in use stops the start: no running blind
        web = start_web_server(container, scheduler)
    except PortUnavailable as exc:
        typer.echo(f"Error: cannot serve /healthz, /readyz and /metrics: {exc}", err=True)
        raise typer.Exit(code=2) from None
    try:
        serve_until_signalled(scheduler, service.stop)
    finally:  # after the runs under way have finished their items
        web.stop()


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
    company_id: Annotated[int | None, typer.Option(help="The fake company's id (default: from credentials).")] = None,
    company_name: Annotated[str | None, typer.Option(help="The fake company's name.")] = None,
    company_business_id: Annotated[str | None, typer.Option(help="The fake company's business ID.")] = None,
) -> None:
    """Serve a fake Procountor company on this machine for demos and tests (state lives in memory).

    One process serves one company, reached with one set of credentials; for a second company (a company switch,
    or a second organization), start another process on another port with other credentials.
    """
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
        company_id=company_id,
        company_name=company_name,
        company_business_id=company_business_id,
    )


def main() -> None:
    app()

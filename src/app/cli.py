"""Command line: `spotilla-procountor COMMAND`; every command explains itself with --help."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from spotilla_procountor.adapters.spotilla_sql.engine import missing_sqlite_file
from spotilla_procountor.adapters.web.auth import Role, Tokens, WeakSecret
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import InvalidSecretKey, MissingSecretKey, new_key
from spotilla_procountor.app.email_addresses import normalized_addresses
from spotilla_procountor.app.key_rotation import rotate_keys
from spotilla_procountor.app.logs import configure_logging
from spotilla_procountor.app.outcomes import ExitCode, sync_exit_code, tenant_health
from spotilla_procountor.app.preflight import ProblemKind, database_problem, missing_database_message, preflight
from spotilla_procountor.app.render import (
    before_start_note,
    held_back_table,
    print_report,
    runs_table,
    split_before_start,
    tenants_table,
)
from spotilla_procountor.app.secret_input import NOT_ON_THE_COMMAND_LINE, read_api_key, read_own_client
from spotilla_procountor.app.service import NoApiClient, SanityLimits, TenantNotConfigured
from spotilla_procountor.app.settings import ENV_PREFIX, Settings, settings_error
from spotilla_procountor.domain.errors import IntegrationError
from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.state import OPEN, SUCCESSFUL_RUNS, EntityKind, RecordState, RunStatus

# Plain tracebacks, never with local variables: those hold secrets (Typer's pretty ones could show them).
PLAIN_TRACEBACKS = {"pretty_exceptions_enable": False, "pretty_exceptions_show_locals": False}
app = typer.Typer(
    no_args_is_help=True,
    help="Spotilla ↔ Procountor: completed work orders become Procountor sales invoices.",
    **PLAIN_TRACEBACKS,
)
db_app = typer.Typer(
    no_args_is_help=True, help="The database: create or upgrade the integration's tables.", **PLAIN_TRACEBACKS
)
tenants_app = typer.Typer(
    no_args_is_help=True, help="Switch the integration on or off for an organization (tenant).", **PLAIN_TRACEBACKS
)
app.add_typer(db_app, name="db")
app.add_typer(tenants_app, name="tenants")

OrgOption = Annotated[int | None, typer.Option("--organization", "-o", help="Only this organization (tenant) id.")]
POLICIES = {"all": TransferPolicy.ALL_COMPLETED, "with-order-number": TransferPolicy.WITH_ORDER_NUMBER}


def _console() -> Console:
    """Made when used, so the terminal width (and COLUMNS) of the moment applies."""
    return Console()


def _container(*, create_database: bool = False, preflight_follows: bool = False) -> Container:
    """The container of the settings in the environment; settings that are wrong, or a SQLite database file that
    does not exist (SQLite would create it empty), stop the command with one line (`db upgrade` creates it)."""
    try:
        container = build_container()
    except ValidationError as exc:
        raise _fail(f"the settings are wrong: {settings_error(exc)}") from None
    settings = container.settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        container.engine()
        missing = missing_sqlite_file(settings.database_url)
    except (ArgumentError, ValueError) as exc:  # `postgres://…`, no scheme, a port that is not a number ...
        kind = type(exc).__name__
        raise _fail(
            f"SPOTILLA_PROCOUNTOR_DATABASE_URL is not a database URL this service can use ({kind}); write it as "
            "postgresql+psycopg://USER@HOST:PORT/DATABASE or sqlite:///PATH"
        ) from None
    if missing is not None and not create_database:
        raise _fail(missing_database_message(missing))
    if not (create_database or preflight_follows):  # the database must answer, with this version's schema
        problem = database_problem(container.engine())
        if problem is not None:
            raise _fail(str(problem))
    return container


def _fail(message: str) -> typer.Exit:
    """One line on standard error, and exit code 2 (a usage or configuration error)."""
    Console(stderr=True, soft_wrap=True).print(f"[bold red]Error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the integration's tables (and Spotilla's, where they do not exist yet)."""
    from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database

    container = _container(create_database=True)
    try:
        upgrade_database(container.engine())
    except SQLAlchemyError as exc:  # a directory that does not exist, a database that does not answer, no rights
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise _fail(f"the database could not be created or upgraded: {detail}") from None
    _console().print(f"Database is up to date: {container.engine().url.render_as_string(hide_password=True)}")


@app.command()
def keygen() -> None:
    """Print a new key for SPOTILLA_PROCOUNTOR_SECRET_KEY (encrypts tenants' credentials at rest)."""
    _console().print(new_key())


@tenants_app.command("enable")
def tenants_enable(
    organization: Annotated[int, typer.Argument(help="Spotilla organization id.")],
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help="A file holding the API key the organization created in Procountor. Without it the key is asked "
            "for (hidden), or read from standard input when that is not a terminal."
        ),
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            help="Only for an organization with a Procountor API client of its own: its client id (with "
            "--client-secret-file). Default: the integration's client, SPOTILLA_PROCOUNTOR_CLIENT_ID."
        ),
    ] = None,
    client_secret_file: Annotated[
        Path | None, typer.Option(help="With --client-id: a file holding that API client's secret.")
    ] = None,
    api_key: Annotated[str | None, typer.Option(hidden=True)] = None,  # refused: only to say how to give it
    client_secret: Annotated[str | None, typer.Option(hidden=True)] = None,  # refused, likewise
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
    """Switch the integration on with the organization's API key: checks it with Procountor and learns the company,
    then stores it encrypted. The key is asked for (hidden), read from standard input, or from --api-key-file."""
    if api_key is not None or client_secret is not None:
        raise _fail(NOT_ON_THE_COMMAND_LINE)
    if policy not in POLICIES:
        raise _fail(f"--policy must be one of {', '.join(POLICIES)}")
    start = tasks_completed_from.date() if tasks_completed_from is not None else None
    container = _container()
    try:  # what would refuse the key anyway is said before the key is asked for
        container.cipher().check()
        own_client = read_own_client(client_id, client_secret_file)
        if own_client is None and container.service_client() is None:
            raise NoApiClient(organization)
        key = read_api_key(organization, api_key_file)
    except (MissingSecretKey, TenantNotConfigured, ValueError) as exc:
        raise _fail(str(exc)) from None
    try:
        config = container.tenants().enable(
            organization,
            key,
            client=own_client,
            environment=environment,
            policy=POLICIES[policy],
            bank_account=bank_account,
            tasks_completed_from=start,
            switch_company=switch_company,
            limits=SanityLimits(quantity_ceiling, invoice_total_ceiling, completion_skew_minutes),
        )
    except MissingSecretKey as exc:
        raise _fail(str(exc)) from None
    except (IntegrationError, TenantNotConfigured, ValueError) as exc:
        raise _fail(f"the integration was not switched on: {exc}") from None
    company = f", Procountor company {config.company_name} ({config.company_business_id})" if config.company_id else ""
    since = f", tasks completed from {config.tasks_completed_from}" if config.tasks_completed_from else ""
    client = f"its own API client {config.client_id}" if config.client_id else "the integration's API client"
    _console().print(
        f"Organization {organization} is switched on ({environment}, policy {POLICIES[policy]}{company}{since}, "
        f"{client})."
    )


@tenants_app.command("rotate-key")
def tenants_rotate_key() -> None:
    """Re-encrypt every tenant's stored credentials with the newest (first) key in SPOTILLA_PROCOUNTOR_SECRET_KEY."""
    container = _container()
    try:
        result = rotate_keys(container.state(), container.cipher())
    except (MissingSecretKey, InvalidSecretKey) as exc:
        raise _fail(str(exc)) from None
    _console().print(
        f"{len(result.rotated)} organization(s) re-encrypted with the newest key; "
        f"{len(result.current)} already used it."
    )
    err = Console(stderr=True, soft_wrap=True)
    if result.unreadable:
        err.print(
            f"[bold red]Not re-encrypted:[/] no key in SPOTILLA_PROCOUNTOR_SECRET_KEY decrypts the credentials of "
            f"organization(s) {', '.join(map(str, result.unreadable))}; they were left as they are. Add the key "
            "they were encrypted with (after the newest) and run this again, or switch them on again.",
            highlight=False,
        )
    if result.busy:
        err.print(
            f"[bold red]Not re-encrypted:[/] organization(s) {', '.join(map(str, result.busy))} were switched on "
            "again meanwhile; run this again.",
            highlight=False,
        )
    if result.unreadable or result.busy:
        raise typer.Exit(code=1)


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
    container = _container()
    _console().print(tenants_table(container.tenants().list(), container.alert_store().admin_emails()))


@tenants_app.command("notify")
def tenants_notify(
    organization: Annotated[int, typer.Argument(help="Spotilla organization id.")],
    email: Annotated[
        list[str] | None, typer.Option("--email", help="An admin's address for the alert mails (repeatable).")
    ] = None,
    none: Annotated[
        bool, typer.Option("--none", help="No admin addresses: the organization's alerts go to the operators.")
    ] = False,
) -> None:
    """Set the organization's admins who get its alert mails (replaces the addresses stored before)."""
    if bool(email) == none:
        raise _fail("give the admins' addresses with --email ADDRESS (repeatable), or --none to remove them")
    try:
        addresses = normalized_addresses(email or [])
    except ValueError as exc:
        raise _fail(str(exc)) from None
    container = _container()
    if not container.alert_store().set_admin_emails(organization, addresses):
        raise _fail(
            f"organization {organization} has not switched the integration on; "
            f"use `spotilla-procountor tenants enable {organization}` first"
        )
    to = ", ".join(addresses) if addresses else "the operators (ALERT_OPERATORS) only"
    mailed = "" if container.settings().smtp_host else " No SMTP_HOST is set: until it is, alerts are only logged."
    _console().print(f"Organization {organization}: alert mails go to {to}.{mailed}")


_TENANTS_OWN_PROBLEMS = (ProblemKind.CREDENTIALS_UNREADABLE, ProblemKind.CREDENTIALS_MISSING)


@app.command()
def sync(
    organization: OrgOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would happen; write nothing anywhere.")] = False,
) -> None:
    """Run one cycle now: for one organization, or for every organization that is switched on.

    Exit code: 0 nothing failed (held-back items are fine), 3 some items failed, 1 a run failed or was
    interrupted, 2 a usage or configuration error.
    """
    container = _container(preflight_follows=True)
    service = container.sync_service()
    # A wrong SECRET_KEY or a missing CLIENT_ID/CLIENT_SECRET is this command's environment, not the tenants' data:
    # refused here (exit 2), it does not write FAILED runs into healthy tenants' logs nor set their alerts going.
    # One tenant's credentials that no key decrypts are that tenant's FAILED run, not a reason to sync nobody.
    setup = preflight(engine=container.engine(), cipher=container.cipher(), tenants=container.tenants())
    wrong = [str(p) for p in setup if p.kind not in _TENANTS_OWN_PROBLEMS]
    if wrong:
        raise _fail("; ".join(wrong))
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
    if organization is not None and not container.tenants().config(organization).enabled:
        raise _fail(f"organization {organization} has switched the integration off; nothing was run")
    raise typer.Exit(code=sync_exit_code(reports))


@app.command()
def status(
    organization: OrgOption = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="One line per organization that is switched on; exit 1 when any needs attention (a failed last "
            "run, failed items, no successful run for too long), 0 when none does. For monitoring and cron.",
        ),
    ] = False,
    stale_after_minutes: Annotated[
        float | None,
        typer.Option(help="With --check: how long without a successful run is too long (default: 3 intervals)."),
    ] = None,
) -> None:
    """Last runs per organization, what is held back and why, failures, and the next scheduled run."""
    container = _container()
    state, settings = container.state(), container.settings()
    configs = container.tenants().list()
    if organization is not None and all(c.organization_id != organization for c in configs):
        raise _fail(str(TenantNotConfigured(f"organization {organization} has not switched the integration on")))
    if check:
        interval = timedelta(minutes=settings.interval_minutes)
        stale_after = timedelta(minutes=stale_after_minutes) if stale_after_minutes else 3 * interval
        raise typer.Exit(code=_check(state, configs, organization, stale_after))
    for config in configs:
        if organization is not None and config.organization_id != organization:
            continue
        org = config.organization_id
        _console().rule(f"Organization {org} ({'on' if config.enabled else 'off'})")
        _console().print(runs_table(state.runs(org, limit=5), timedelta(minutes=settings.interval_minutes)))
        backoff = container.alerts().backoff_reason(config)
        if backoff:
            _console().print(f"[bold yellow]Not run now, {backoff}.[/]")
        records = [r for kind in EntityKind for r in state.records(org, kind, states=OPEN).values()]
        waiting, before_start = split_before_start(records)
        table = held_back_table(waiting)
        _console().print(table if table is not None else "Nothing is held back.")
        if before_start:
            _console().print(before_start_note(before_start, config.tasks_completed_from))
    if not configs:
        _console().print("No organization has switched the integration on yet (`spotilla-procountor tenants enable`).")


def _check(state, configs: list, organization: int | None, stale_after: timedelta) -> ExitCode:
    """Prints one line per tenant that is switched on; ExitCode.FAILED when any needs attention."""
    now, worst = datetime.now(UTC), ExitCode.OK
    chosen = [c for c in configs if c.enabled and organization in (None, c.organization_id)]
    for config in chosen:
        org = config.organization_id
        health = tenant_health(
            config,
            latest=next((r for r in state.runs(org, limit=5) if r.status != RunStatus.RUNNING), None),
            last_success=next(iter(state.runs(org, limit=1, statuses=SUCCESSFUL_RUNS)), None),
            failed_items=sum(len(state.records(org, kind, states={RecordState.FAILED})) for kind in EntityKind),
            now=now,
            stale_after=stale_after,
        )
        print(health.line())  # plain lines for monitoring: no colour, no wrapping
        if health.needs_attention:
            worst = ExitCode.FAILED
    if not chosen:
        print("No organization is switched on: nothing to check.")
    return worst


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

    Serves /healthz, /readyz, /metrics, the admin pages and the JSON API (/api/v1, /openapi.json) on
    HTTP_HOST:HTTP_PORT meanwhile; the pages and the API need WEB_JWT_SECRET (without it they answer 503).
    """
    from spotilla_procountor.adapters.scheduler import TenantScheduler, serve_until_signalled
    from spotilla_procountor.adapters.web.auth import WeakSecret
    from spotilla_procountor.app.web import PortUnavailable, start_web_server

    container = _container(preflight_follows=True)
    problems = preflight(engine=container.engine(), cipher=container.cipher(), tenants=container.tenants())
    if problems:
        raise _fail(f"the service cannot start: {'; '.join(map(str, problems))}")
    service, tenants, settings = container.sync_service(), container.tenants(), container.settings()
    scheduler = TenantScheduler(
        sync_tenant=service.sync,
        enabled_tenants=lambda: [c.organization_id for c in tenants.list() if c.enabled],
        interval_minutes=settings.interval_minutes,
        concurrency=settings.tenant_concurrency,
    )
    try:  # health, metrics, pages and API (HTTP_HOST:HTTP_PORT); a port in use stops the start: no running blind
        web = start_web_server(container, scheduler)
    except PortUnavailable as exc:
        typer.echo(f"Error: cannot serve /healthz, /readyz and /metrics: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except WeakSecret as exc:
        raise _fail(f"the service cannot start: {exc}") from None
    try:
        serve_until_signalled(scheduler, service.stop)
    finally:  # after the runs under way have finished their items
        web.stop()


@app.command()
def check() -> None:
    """What `run` checks before it starts: the database and its schema, the secret key, and that every enabled
    organization's credentials can be read and have an API client. Exit code 0 when all is well, 2 otherwise."""
    container = _container(preflight_follows=True)
    problems = preflight(engine=container.engine(), cipher=container.cipher(), tenants=container.tenants())
    console = Console(soft_wrap=True)
    for problem in problems:
        console.print(f"[bold red]✗[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(code=2)
    enabled = sum(config.enabled for config in container.tenants().list())
    console.print(
        f"[bold green]✓[/] Ready to run: the database answers, its schema is current, and the credentials of "
        f"{enabled} enabled organization(s) can be read.",
        highlight=False,
    )


@app.command()
def token(
    organization: Annotated[int, typer.Option("--organization", "-o", min=1, help="The organization the user is of.")],
    role: Annotated[Role, typer.Option(help="admin: that organization only; operator: every organization.")],
    subject: Annotated[str, typer.Option(help="Who the token names (its `sub` claim).")] = "spotilla-procountor-cli",
    minutes: Annotated[float, typer.Option(min=0.1, help="How long it stays valid.")] = 15,
) -> None:
    """Print a sign-in token as Spotilla signs it (with WEB_JWT_SECRET), for demos and for calling the API:
    curl -H "Authorization: Bearer $(spotilla-procountor token -o 42 --role admin)" …/api/v1/organizations/42/status

    Needs no database: only the shared secret. Nothing but the token is printed, so it can be captured."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise _fail(f"the settings are wrong: {settings_error(exc)}") from None
    if not subject.strip():
        raise _fail("--subject is empty: name the user (or the demo) the token is for")
    if settings.web_jwt_secret is None:
        raise _fail(
            f"{ENV_PREFIX}WEB_JWT_SECRET (or {ENV_PREFIX}WEB_JWT_SECRET_FILE) is not set: set it to the secret "
            "Spotilla signs its sign-in tokens with"
        )
    if minutes > settings.web_token_max_minutes:
        raise _fail(
            f"--minutes {minutes:g} is longer than the API accepts ({ENV_PREFIX}WEB_TOKEN_MAX_MINUTES is "
            f"{settings.web_token_max_minutes:g}); ask for {settings.web_token_max_minutes:g} minutes or fewer"
        )
    try:
        tokens = Tokens(settings.web_jwt_secret.get_secret_value())
    except WeakSecret as exc:
        raise _fail(str(exc)) from None
    signed = tokens.issue(subject=subject, organization_id=organization, role=role, lifetime=timedelta(minutes=minutes))
    typer.echo(signed)  # not rich: a long token must not be wrapped


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


@app.command("demo-web")
def demo_web(
    port: Annotated[int, typer.Option(help="Port of the pages on 127.0.0.1 (0 = any free port).")] = 8080,
) -> None:
    """The web pages on a fresh machine: embedded database, fake Procountor, demo data, and a link that opens the
    admin's page signed in. Runs until Ctrl-C."""
    from spotilla_procountor.app.demo_web import run_demo_web

    sys.exit(run_demo_web(_console(), port=port))


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

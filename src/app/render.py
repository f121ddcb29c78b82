"""Tables a person reads: what a run did, what is held back and why, how the tenants stand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from rich.console import Console
from rich.table import Table

from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.domain.invoicing import HELSINKI
from spotilla_procountor.domain.reasons import ReasonCode
from spotilla_procountor.domain.state import (
    OPEN,
    EntityKind,
    Event,
    Outcome,
    Record,
    RunSummary,
)
from spotilla_procountor.domain.sync import SyncReport

FLOWS = ("products", "customers_out", "partners_in", "invoices")
FLOW_TITLES = {
    "products": "Products → Procountor",
    "customers_out": "Customers → Procountor",
    "partners_in": "Partners → Spotilla",
    "invoices": "Invoices → Procountor",
}
OUTCOMES = [o.value for o in Outcome]


def local(moment: datetime | None) -> str:
    """A moment as a Finnish reader expects it."""
    return moment.astimezone(HELSINKI).strftime("%Y-%m-%d %H:%M") if moment else "—"


def counts_table(counts: dict[str, int], title: str) -> Table:
    """Counts per flow and outcome."""
    used = [o for o in OUTCOMES if any(counts.get(f"{f}.{o}") for f in FLOWS)]
    table = Table(title=title)
    table.add_column("Flow")
    for outcome in used or ["CREATED"]:
        table.add_column(outcome.replace("_", " ").lower(), justify="right")
    for flow in FLOWS:
        table.add_row(FLOW_TITLES[flow], *[str(counts.get(f"{flow}.{o}", 0)) for o in used or ["CREATED"]])
    return table


def _before_start_event(event: Event) -> bool:
    return ReasonCode.COMPLETED_BEFORE_START in (event.reason_code or "").split(",")


def problems_table(events: Iterable[Event], title: str) -> Table | None:
    """Items held back or failed in a run, with the reason a person can act on (tasks from before the start day
    are counted apart, see `print_report`)."""
    rows = [e for e in events if e.outcome in (Outcome.HELD_BACK, Outcome.FAILED) and not _before_start_event(e)]
    if not rows:
        return None
    table = Table(title=title, show_lines=False)
    for name in ("What", "Spotilla id", "Outcome", "Reason"):
        table.add_column(name, overflow="fold")
    for e in rows:
        table.add_row(
            e.kind.lower(), str(e.spotilla_id), e.outcome.replace("_", " ").lower(), f"{e.reason_code}: {e.message}"
        )
    return table


def print_report(console: Console, report: SyncReport) -> None:
    """What one cycle did (or would do, in a dry run)."""
    kind = "Dry run (nothing was written)" if report.dry_run else f"Run {report.run_id}"
    console.print(counts_table(report.counts, f"Organization {report.organization_id}: {kind}: {report.status}"))
    if report.error:
        console.print(f"[bold red]{report.error}[/]")
    table = problems_table(report.events, "Held back or failed in this run")
    if table is not None:
        console.print(table)
    older = sum(1 for e in report.events if e.outcome == Outcome.HELD_BACK and _before_start_event(e))
    if older:
        console.print(f"{older} task(s) completed before the organization's start day are not invoiced.")


def runs_table(runs: list[RunSummary], interval: timedelta, now: datetime | None = None) -> Table:
    table = Table(title="Last runs")
    for name in ("Run", "Started (Helsinki)", "Took", "Status", "Created", "Updated", "Held back", "Failed", "Error"):
        table.add_column(name, overflow="fold")
    for run in runs:
        totals: Counter[str] = Counter()
        for key, n in run.counts.items():
            totals[key.split(".", 1)[-1]] += n
        took = f"{(run.finished_at - run.started_at).total_seconds():.1f} s" if run.finished_at else "running"
        table.add_row(
            str(run.id),
            local(run.started_at),
            took,
            run.status,
            str(totals["CREATED"] + totals["LINKED"] + totals["ADOPTED"]),
            str(totals["UPDATED"]),
            str(totals["HELD_BACK"]),
            str(totals["FAILED"]),
            run.error or "",
        )
    if runs:
        table.caption = next_run_caption(runs[0], interval, now or datetime.now(UTC))
    return table


def next_run_caption(latest: RunSummary, interval: timedelta, now: datetime) -> str:
    """When the next run is due, or, once two intervals have passed without one, that it is overdue."""
    due = latest.started_at + interval
    if now - due <= interval:
        return f"Next scheduled run about {local(due)} (every {interval})"
    return (
        f"A run was due about {local(due)} and none has started since: is `spotilla-procountor run` running? "
        "(`status --check` tells monitoring the same)"
    )


def held_back_table(records: Iterable[Record]) -> Table | None:
    """Everything currently waiting, with its reasons: tasks, customers and products."""
    table = Table(title="Held back or failed now")
    for name in ("What", "Spotilla id", "State", "Reasons"):
        table.add_column(name, overflow="fold")
    order = {EntityKind.TASK: 0, EntityKind.CUSTOMER: 1, EntityKind.PRODUCT: 2}
    for record in sorted(records, key=lambda r: (order.get(r.kind, 9), r.spotilla_id)):
        if record.state in OPEN:
            table.add_row(
                record.kind.lower(),
                str(record.spotilla_id),
                record.state.lower(),
                "\n".join(str(r) for r in record.reasons) or "in doubt; looked up next run",
            )
    return table if table.row_count else None


def split_before_start(records: Iterable[Record]) -> tuple[list[Record], list[Record]]:
    """(records waiting for something a person can fix, tasks completed before the start day)."""
    waiting: list[Record] = []
    before: list[Record] = []
    for record in records:
        older = any(r.code == ReasonCode.COMPLETED_BEFORE_START for r in record.reasons)
        (before if older else waiting).append(record)
    return waiting, before


def before_start_note(records: list[Record], start: date | None) -> str:
    """How many older tasks the integration leaves alone."""
    since = f" ({start})" if start else ""
    return (
        f"{len(records)} completed task(s) are older than the day the integration starts from{since}; "
        "they are never invoiced through it (see `tenants enable --tasks-completed-from`)."
    )


def tenants_table(configs: Iterable[TenantConfig], alert_emails: Mapping[int, Sequence[str]] | None = None) -> Table:
    """Tenants and their switches, and who gets their alert mails; never a secret."""
    table = Table(title="Tenants")
    columns = ("Organization", "Enabled", "Policy", "Procountor", "Company", "API client", "Credentials", "Tasks from")
    columns += ("Alerts to",) if alert_emails is not None else ()
    for name in columns:
        table.add_column(name)
    for c in configs:
        stored = "stored encrypted" if c.api_key_enc and (c.client_secret_enc or not c.client_id) else "missing"
        company = f"{c.company_name} ({c.company_business_id})" if c.company_id is not None else "—"
        table.add_row(
            str(c.organization_id),
            "yes" if c.enabled else "no",
            c.policy,
            c.environment,
            company,
            f"{c.client_id} (its own)" if c.client_id else "the integration's",
            stored,
            str(c.tasks_completed_from or "—"),
            *([", ".join(alert_emails.get(c.organization_id, ())) or "operators"] if alert_emails is not None else []),
        )
    return table

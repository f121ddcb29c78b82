"""The words of the alert mails: what happened, what to do and where; plain text, built only from what it is given."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from spotilla_procountor.domain.alerts import (
    AUDIENCES,
    AlertMail,
    AlertPolicy,
    Condition,
    FailedStreak,
    Refusals,
    TenantLabel,
)
from spotilla_procountor.domain.invoicing import HELSINKI
from spotilla_procountor.domain.state import Record

CLI = "spotilla-procountor"
MAX_LISTED = 50
FOOTER = (
    "\n-- \nSent by the Spotilla–Procountor integration, once for each condition. The organization's admin "
    "addresses are set with `{cli} tenants notify {org} --email ADDRESS`; the commands above are run by the "
    "integration's operator, on the server where the integration runs."
)


def _local(moment: datetime, *, zone: bool = True) -> str:
    return moment.astimezone(HELSINKI).strftime("%Y-%m-%d %H:%M") + (" (Finnish time)" if zone else "")


def _mail(condition: Condition, tenant: TenantLabel, fingerprint: str, headline: str, sections: list[str]) -> AlertMail:
    body = "\n\n".join(sections) + FOOTER.format(cli=CLI, org=tenant.organization_id)
    return AlertMail(
        condition=condition,
        fingerprint=fingerprint,
        subject=f"Spotilla–Procountor, {tenant}: {headline}",
        body=body + "\n",
        audiences=AUDIENCES[condition],
    )


def credentials_refused(
    tenant: TenantLabel, refusals: Refusals, fingerprint: str, policy: AlertPolicy, *, reminder: bool
) -> AlertMail:
    org = tenant.organization_id
    minutes = round(policy.backoff.total_seconds() / 60)
    happened = (
        f"WHAT HAPPENED\nProcountor refused the integration's credentials for {tenant} {refusals.count} times in a "
        f"row, the last time at {_local(refusals.last_at)}. Nothing is transferred to Procountor (invoices, "
        f"customers, products) until this is fixed. The integration now tries once every {minutes} minutes instead "
        f"of at every run, next at {_local(refusals.last_at + policy.backoff)}."
    )
    if reminder:
        happened += " This is a daily reminder: it is still so."
    todo = (
        "WHAT TO DO\nUsually the organization's API key was revoked or has expired in Procountor.\n"
        "1. The organization's admin creates a new API key for the integration in Procountor and hands it to the "
        "integration's operator.\n"
        f"2. The operator stores it: `{CLI} tenants enable {org}`. The organization is tried again at once.\n"
        f"3. `{CLI} status --organization {org}` shows the next run; a mail says when Procountor accepts the "
        "credentials again."
    )
    headline = "Procountor refuses the credentials" + (" (reminder)" if reminder else "")
    return _mail(Condition.CREDENTIALS_REFUSED, tenant, fingerprint, headline, [happened, todo])


def credentials_working(tenant: TenantLabel, fingerprint: str) -> AlertMail:
    happened = (
        f"WHAT HAPPENED\nProcountor accepts the credentials of {tenant} again, and the integration transfers as "
        "usual: what waited is transferred by the runs from now on."
    )
    todo = f"WHAT TO DO\nNothing. `{CLI} status --organization {tenant.organization_id}` shows the runs."
    return _mail(Condition.CREDENTIALS_REFUSED, tenant, fingerprint, "the credentials work again", [happened, todo])


def runs_failed(tenant: TenantLabel, streak: FailedStreak, fingerprint: str) -> AlertMail:
    org = tenant.organization_id
    happened = (
        f"WHAT HAPPENED\nThe last {streak.count} runs of {tenant} failed one after another: they could not do their "
        "work, and nothing more is transferred until the cause is gone.\n"
        f"The last error: {streak.last_error or 'not recorded'}"
    )
    todo = (
        "WHAT TO DO\nRead the error above and the service log around it. Common causes: Procountor or the "
        "database cannot be reached, or the service's SECRET_KEY no longer decrypts the organization's "
        "credentials (then store them again with `tenants enable`).\n"
        f"- `{CLI} status --organization {org}` shows the runs and their errors.\n"
        f"- Once fixed, the next run carries on by itself; `{CLI} sync --organization {org}` runs one now.\n"
        f"- `{CLI} tenants enable {org}` stores the organization's credentials again."
    )
    return _mail(Condition.RUNS_FAILED, tenant, fingerprint, f"{streak.count} runs failed in a row", [happened, todo])


def _lines(records: Sequence[Record], *, since: bool = False) -> str:
    lines = []
    for record in records[:MAX_LISTED]:
        when = f" (since {_local(record.updated_at, zone=False)})" if since and record.updated_at else ""
        reason = record.reason_text or "no reason recorded"
        lines.append(f"- {record.kind.lower()} {record.spotilla_id}{when}: {reason}")
    if len(records) > MAX_LISTED:
        lines.append(f"- ... and {len(records) - MAX_LISTED} more: `status` lists them all.")
    return "\n".join(lines)


def _retry_example(org: int, records: Sequence[Record]) -> str:
    first = records[0]
    return f"`{CLI} retry --organization {org} --{first.kind.lower()} {first.spotilla_id}`"


def items_failed(tenant: TenantLabel, records: Sequence[Record], fingerprint: str) -> AlertMail:
    org = tenant.organization_id
    happened = (
        f"WHAT HAPPENED\nProcountor refused {len(records)} item(s) of {tenant} since the last such mail; they were "
        f"not transferred:\n{_lines(records)}"
    )
    todo = (
        "WHAT TO DO\nFix each item as its reason says (usually its data in Spotilla). An item whose data changes is "
        "tried again by itself at the next run; one refused for another cause is sent again by the operator, "
        f"for example {_retry_example(org, records)}, or `{CLI} retry --organization {org} --all-failed`.\n"
        f"`{CLI} status --organization {org}` lists everything failed or held back now, with its reason."
    )
    headline = f"{len(records)} item(s) refused by Procountor"
    return _mail(Condition.ITEMS_FAILED, tenant, fingerprint, headline, [happened, todo])


def held_back(tenant: TenantLabel, records: Sequence[Record], days: float, fingerprint: str) -> AlertMail:
    org = tenant.organization_id
    happened = (
        f"WHAT HAPPENED\n{len(records)} item(s) of {tenant} have been held back for more than {days:g} days: they "
        f"wait for their data to be fixed and are not transferred until then (times are Finnish time):\n"
        f"{_lines(records, since=True)}"
    )
    todo = (
        "WHAT TO DO\nFix each item in Spotilla as its reason says; it is transferred by itself at the next run after "
        f"it changes. `{CLI} status --organization {org}` lists everything held back now; "
        f"`{CLI} retry --organization {org} --all-failed` tries them all again (for a cause fixed outside Spotilla)."
    )
    headline = f"{len(records)} item(s) held back for over {days:g} days (weekly)"
    return _mail(Condition.HELD_BACK, tenant, fingerprint, headline, [happened, todo])

"""What runs mean to whoever watches them: exit codes of `sync`, and which tenants need attention (`status --check`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.render import local
from spotilla_procountor.domain.state import RunStatus, RunSummary
from spotilla_procountor.domain.sync import SyncReport


class ExitCode(IntEnum):
    """`sync` and `status --check` exit codes; the README lists them for scripts and monitoring."""

    OK = 0
    """Nothing failed (items held back for their data are fine: they wait for a person, with a reason)."""
    FAILED = 1
    """A run could not do its work, was interrupted, or was not tried because the tenant backs off after refused
    credentials; `status --check`: some tenant needs attention."""
    USAGE = 2
    """A usage or configuration error: nothing was run."""
    SOME_ITEMS_FAILED = 3
    """The runs did their work, but some items failed; `status` lists them with their reasons."""


def sync_exit_code(reports: Iterable[SyncReport]) -> ExitCode:
    """The worst of the runs: a failed or interrupted run, then failed items, then success."""
    reports = list(reports)
    statuses = {report.status for report in reports}
    held_off = any(r.status == RunStatus.SKIPPED and r.failure is not None for r in reports)  # e.g. backing off
    if held_off or statuses & {RunStatus.FAILED, RunStatus.INTERRUPTED}:
        return ExitCode.FAILED
    if RunStatus.PARTIAL in statuses:
        return ExitCode.SOME_ITEMS_FAILED
    return ExitCode.OK


@dataclass(frozen=True, slots=True)
class TenantAttention:
    """One tenant's answer to "does anybody need to act?"; no reasons means no."""

    organization_id: int
    reasons: tuple[str, ...]
    last_success: datetime | None

    @property
    def needs_attention(self) -> bool:
        return bool(self.reasons)

    def line(self) -> str:
        if not self.needs_attention:
            since = f"last successful run {local(self.last_success)}" if self.last_success else "no run due yet"
            return f"Organization {self.organization_id}: OK ({since})"
        return f"Organization {self.organization_id}: NEEDS ATTENTION: " + "; ".join(self.reasons)


class Advice(StrEnum):
    """Whom the reasons' advice is for: the operator at the command line, or the tenant's admin on its page."""

    CLI = "cli"
    PAGE = "page"


def tenant_health(
    config: TenantConfig,
    *,
    latest: RunSummary | None,
    last_success: RunSummary | None,
    failed_items: int,
    now: datetime,
    stale_after: timedelta,
    advice: Advice = Advice.CLI,
) -> TenantAttention:
    """Judges a tenant by its newest finished run, the items failed now, and how long ago a run last did its work.

    A tenant switched on (again) recently is not stale before `stale_after` has passed since then.
    """
    org, reasons = config.organization_id, []
    if latest is not None and latest.status == RunStatus.FAILED:
        reasons.append(f"the last run ({local(latest.started_at)}) failed: {latest.error or 'no reason recorded'}")
    elif latest is not None and latest.status == RunStatus.PARTIAL and not failed_items:
        # Items whose create failed in a way that is looked up again next run: failed now, not yet refused.
        reasons.append(f"the last run ({local(latest.started_at)}) could not transfer some items: {latest.error}")
    if failed_items and advice == Advice.PAGE:
        reasons.append(
            f"{failed_items} item(s) failed and were not transferred: the list of failed items says why; fix them, "
            "then Retry"
        )
    elif failed_items:
        reasons.append(
            f"{failed_items} item(s) failed and were not transferred "
            f"(`spotilla-procountor status -o {org}` shows why; fix them, then `retry -o {org} --all-failed`)"
        )
    success_at = last_success.finished_at or last_success.started_at if last_success else None
    since = max(filter(None, (success_at, config.updated_at)), default=None)
    if since is not None and now - since > stale_after:
        what = f"no successful run since {local(success_at)}" if success_at else "no successful run yet"
        if advice == Advice.PAGE:
            reasons.append(
                f"{what} (runs are due every {_minutes(stale_after / 3)}): the service may be stopped or unable "
                "to reach Procountor; Spotilla's operators can see why in its log"
            )
        else:
            reasons.append(
                f"{what} (allowed: {_minutes(stale_after)}): is `spotilla-procountor run` running, "
                "and can it reach Procountor and the database?"
            )
    return TenantAttention(org, tuple(reasons), success_at)


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:g} minutes"

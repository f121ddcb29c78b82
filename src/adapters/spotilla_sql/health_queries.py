"""Read-only queries for readiness and metrics: a fixed number of statements per call, however many tenants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, Text, func, literal, not_, select, true, union_all
from sqlalchemy.orm import aliased

from spotilla_procountor.adapters.spotilla_sql._sql import translated_errors
from spotilla_procountor.adapters.spotilla_sql.models import OrganizationRow
from spotilla_procountor.adapters.spotilla_sql.state_models import RecordRow, RunRow, SettingsRow
from spotilla_procountor.domain.reasons import ReasonCode
from spotilla_procountor.domain.state import SUCCESSFUL_RUNS, EntityKind, RecordState, RunStatus

SUCCESSFUL = tuple(sorted(status.value for status in SUCCESSFUL_RUNS))

_BEFORE_START = f"%{ReasonCode.COMPLETED_BEFORE_START.value}%"  # also in the older `CODE: sentence` form


@dataclass(frozen=True, slots=True)
class TenantHealth:
    """One enabled tenant as the database shows it now."""

    organization_id: int
    enabled_since: datetime | None
    """When its settings were last written (switched on, or changed since): a tenant is not overdue before."""
    latest_run_status: RunStatus | None = None
    latest_run_started_at: datetime | None = None
    last_success_at: datetime | None = None
    """When its newest SUCCEEDED or PARTIAL run finished; None if it never had one."""


@dataclass(frozen=True, slots=True)
class ItemCounts:
    """Open items of one tenant and kind, by state; tasks completed before the start day are left out."""

    held_back: int = 0
    failed: int = 0
    in_doubt: int = 0
    oldest_held_back_at: datetime | None = None
    """Since when the longest-waiting held-back item is held back."""


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """Every enabled tenant and its open items, read in two statements."""

    tenants: list[TenantHealth]
    items: dict[tuple[int, EntityKind], ItemCounts] = field(default_factory=dict)


class SqlHealthQueries:
    """What readiness and the metrics scrape read from the integration's tables; never writes.

    `enabled_tenants()` is one statement; `snapshot()` two. Each reads a few index entries per tenant (the newest
    run and the newest successful run walking `(organization_id, id)` backwards; open items through
    `(organization_id, kind, state)`), not the run log or the linked records, however large they grow.
    Raises only `RepositoryError`.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def enabled_tenants(self) -> list[TenantHealth]:
        """Every enabled tenant with its newest run and its last successful run."""
        with translated_errors("reading the tenants' health"), self._engine.connect() as connection:
            return [_tenant(row) for row in connection.execute(_TENANTS)]

    def snapshot(self) -> HealthSnapshot:
        """Enabled tenants, and their held-back, failed and in-doubt items by kind, in one connection."""
        with translated_errors("reading the tenants' health"), self._engine.connect() as connection:
            tenants = [_tenant(row) for row in connection.execute(_TENANTS)]
            items = {
                (row.organization_id, EntityKind(row.kind)): ItemCounts(
                    held_back=row.held_back,
                    failed=row.failed,
                    in_doubt=row.in_doubt,
                    oldest_held_back_at=_aware(row.oldest_held_back_at),
                )
                for row in connection.execute(_ITEMS)
                if row.held_back or row.failed or row.in_doubt
            }
        return HealthSnapshot(tenants, items)

    def organization_name(self, organization_id: int) -> str | None:
        """The organization's name in Spotilla; None when Spotilla has no such organization."""
        query = select(OrganizationRow.name).where(OrganizationRow.id == organization_id)
        with translated_errors("reading the organization"), self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else (row.name or "")

    def record_counts(self, organization_id: int) -> dict[tuple[EntityKind, RecordState], int]:
        """One tenant's records by kind and state, in one statement; held-back tasks completed before the start day
        are counted apart, under (TASK, None) (they wait for nobody)."""
        before = RecordRow.reasons.like(_BEFORE_START) & (RecordRow.state == RecordState.HELD_BACK.value)
        query = (
            select(RecordRow.kind, RecordRow.state, before.label("before_start"), func.count().label("n"))
            .where(RecordRow.organization_id == organization_id)
            .group_by(RecordRow.kind, RecordRow.state, before)
        )
        counts: dict[tuple[EntityKind, RecordState | None], int] = {}
        with translated_errors("counting the organization's items"), self._engine.connect() as connection:
            for row in connection.execute(query):
                key = (EntityKind(row.kind), None if row.before_start else RecordState(row.state))
                counts[key] = counts.get(key, 0) + row.n
        return counts  # type: ignore[return-value]


def _newest_run_id(*statuses: str):
    run = aliased(RunRow)
    query = select(run.id).where(run.organization_id == SettingsRow.organization_id)
    if statuses:
        query = query.where(run.status.in_(statuses))
    return query.order_by(run.id.desc()).limit(1).correlate(SettingsRow).scalar_subquery()


_LATEST, _SUCCESS = aliased(RunRow), aliased(RunRow)
_TENANTS = (
    select(
        SettingsRow.organization_id,
        SettingsRow.updated_at,
        _LATEST.status.label("latest_status"),
        _LATEST.started_at.label("latest_started_at"),
        _SUCCESS.finished_at.label("last_success_at"),
    )
    .select_from(SettingsRow)
    .outerjoin(_LATEST, _LATEST.id == _newest_run_id())
    .outerjoin(_SUCCESS, _SUCCESS.id == _newest_run_id(*SUCCESSFUL))
    .where(SettingsRow.enabled.is_(True))
    .order_by(SettingsRow.organization_id)
)


_KINDS = union_all(*(select(literal(kind.value, Text).label("kind")) for kind in EntityKind)).subquery("kinds")


def _open_items(aggregate, *states: RecordState, waiting: bool = False):
    """A per-(tenant, kind) subquery over the records in `states`, each found through the
    (organization_id, kind, state) index, so a scrape never reads the linked rows, however many there are."""
    record = aliased(RecordRow)
    query = select(aggregate(record)).where(
        record.organization_id == SettingsRow.organization_id,
        record.kind == _KINDS.c.kind,
        record.state.in_([s.value for s in states]) if len(states) > 1 else record.state == states[0].value,
    )
    if waiting:  # tasks completed before the tenant's start day are never invoiced: they wait for nobody
        query = query.where(not_(record.reasons.like(_BEFORE_START)))
    return query.correlate(SettingsRow, _KINDS).scalar_subquery()


_ITEMS = (
    select(
        SettingsRow.organization_id,
        _KINDS.c.kind,
        _open_items(lambda r: func.count(), RecordState.HELD_BACK, waiting=True).label("held_back"),
        _open_items(lambda r: func.count(), RecordState.FAILED).label("failed"),
        _open_items(lambda r: func.count(), RecordState.PENDING, RecordState.SENT).label("in_doubt"),
        _open_items(
            lambda r: func.min(func.coalesce(r.state_since, r.updated_at)), RecordState.HELD_BACK, waiting=True
        ).label("oldest_held_back_at"),
    )
    .select_from(SettingsRow)
    .join(_KINDS, true())
    .where(SettingsRow.enabled.is_(True))
)


def _tenant(row) -> TenantHealth:
    return TenantHealth(
        organization_id=row.organization_id,
        enabled_since=_aware(row.updated_at),
        latest_run_status=RunStatus(row.latest_status) if row.latest_status else None,
        latest_run_started_at=_aware(row.latest_started_at),
        last_success_at=_aware(row.last_success_at),
    )


def _aware(value: datetime | str | None) -> datetime | None:
    """Columns come back aware through `UtcDateTime`; this also covers an aggregate that lost the column's type."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

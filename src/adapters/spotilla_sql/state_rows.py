"""Rows of the integration's own tables turned into the domain's plain data.

A row is an ORM object or a Core `Row`: both carry the columns as attributes of the same names.
"""

from __future__ import annotations

import json
from typing import Any

from spotilla_procountor.adapters.spotilla_sql.state_models import RunEventRow, RunRow
from spotilla_procountor.domain.state import (
    EntityKind,
    Event,
    Link,
    LinkState,
    Outcome,
    RunStatus,
    RunSummary,
    TransferRecord,
    TransferState,
)


def link_of(row: Any) -> Link:
    return Link(
        organization_id=row.organization_id,
        kind=EntityKind(row.kind),
        spotilla_id=row.spotilla_id,
        procountor_id=row.procountor_id,
        state=LinkState(row.state),
        fingerprint=row.fingerprint,
        reason=row.reason,
    )


def transfer_of(row: Any) -> TransferRecord:
    return TransferRecord(
        organization_id=row.organization_id,
        task_id=row.task_id,
        key=row.key,
        state=TransferState(row.state),
        invoice_id=row.invoice_id,
        reasons=tuple(json.loads(row.reasons or "[]")),
        fingerprint=row.fingerprint,
        attempts=row.attempts,
        updated_at=row.updated_at,
    )


def run_of(row: RunRow) -> RunSummary:
    return RunSummary(
        id=row.id,
        organization_id=row.organization_id,
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=json.loads(row.counts or "{}"),
        error=row.error,
        dry_run=bool(row.dry_run),
    )


def event_of(row: RunEventRow) -> Event:
    return Event(
        flow=row.flow,
        kind=EntityKind(row.kind),
        spotilla_id=row.spotilla_id,
        outcome=Outcome(row.outcome),
        procountor_id=row.procountor_id,
        reason_code=row.reason_code,
        message=row.message,
    )

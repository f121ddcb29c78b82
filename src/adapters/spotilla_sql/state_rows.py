"""Rows of the integration's own tables turned into the domain's plain data.

A row is an ORM object or a Core `Row`: both carry the columns as attributes of the same names.
"""

from __future__ import annotations

import json
from typing import Any

from spotilla_procountor.adapters.spotilla_sql.state_models import RunEventRow, RunRow
from spotilla_procountor.domain.reasons import Reason
from spotilla_procountor.domain.state import (
    EntityKind,
    Event,
    Flow,
    Outcome,
    Record,
    RecordState,
    RunStatus,
    RunSummary,
)


def record_of(row: Any) -> Record:
    return Record(
        organization_id=row.organization_id,
        kind=EntityKind(row.kind),
        spotilla_id=row.spotilla_id,
        state=RecordState(row.state),
        procountor_id=row.procountor_id,
        reasons=tuple(Reason.from_json(r) for r in json.loads(row.reasons or "[]")),
        fingerprint=row.fingerprint,
        attempts=row.attempts,
        claim_epoch=row.claim_epoch,
        claimed_at=row.claimed_at,
        updated_at=row.updated_at,
        state_since=row.state_since,
    )


def record_values(record: Record) -> dict[str, Any]:
    """The columns of a record's row, but `updated_at` and `state_since` (the store sets them)."""
    return {
        "organization_id": record.organization_id,
        "kind": EntityKind(record.kind).value,
        "spotilla_id": record.spotilla_id,
        "procountor_id": record.procountor_id,
        "state": RecordState(record.state).value,
        "reasons": json.dumps([r.to_json() for r in record.reasons], ensure_ascii=False),
        "fingerprint": record.fingerprint,
        "attempts": record.attempts,
        "claim_epoch": record.claim_epoch,
        "claimed_at": record.claimed_at,
    }


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
        flow=Flow(row.flow),
        kind=EntityKind(row.kind),
        spotilla_id=row.spotilla_id,
        outcome=Outcome(row.outcome),
        procountor_id=row.procountor_id,
        reason_code=row.reason_code,
        message=row.message,
    )

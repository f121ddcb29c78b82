"""`SqlAlertStore`: what was mailed per tenant and condition (claimed atomically), runs in a row, admin addresses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, or_, select, update

from spotilla_procountor.adapters.spotilla_sql._sql import dialect_insert, system_now, translated_errors, upsert
from spotilla_procountor.adapters.spotilla_sql.state_models import AlertRow, RunStreakRow, SettingsRow
from spotilla_procountor.domain.alerts import AlertState, Condition, FailedStreak, Refusals, RunStreaks
from spotilla_procountor.domain.ports import Clock


class SqlAlertStore:
    """The alert and back-off state of the integration's tenants; raises only `RepositoryError`."""

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self._now = clock.now if clock is not None else system_now

    # -- what was mailed, claimed before sending --------------------------------------------------------

    def alert_state(self, organization_id: int, condition: Condition) -> AlertState:
        """What was last mailed for the condition (an empty state when nothing was)."""
        query = select(AlertRow.fingerprint, AlertRow.sent_at).where(*_key(organization_id, condition))
        with translated_errors("reading alert state"), self._engine.connect() as connection:
            row = connection.execute(query).first()
        return AlertState(row.fingerprint, row.sent_at) if row is not None else AlertState()

    def claim(self, organization_id: int, condition: Condition, seen: AlertState, lease: timedelta) -> str | None:
        """Claims the sending of the condition's mail; the claim's token, or None when another process has it.

        Succeeds only while the stored state is still `seen` (what the decision was made on) and no unexpired
        claim is on it, in one statement: of two processes that decided to send, one gets it.
        """
        token, now = uuid.uuid4().hex, self._now()
        claim = {"claimed_by": token, "claimed_until": now + lease}
        unchanged = update(AlertRow).where(
            *_key(organization_id, condition),
            AlertRow.fingerprint.is_not_distinct_from(seen.fingerprint),
            AlertRow.sent_at.is_not_distinct_from(seen.sent_at),
            or_(AlertRow.claimed_until.is_(None), AlertRow.claimed_until < now),
        )
        with translated_errors("claiming an alert"), self._engine.begin() as connection:
            if cast(CursorResult[Any], connection.execute(unchanged.values(claim))).rowcount == 1:
                return token
            if seen != AlertState():
                return None
            first = {"organization_id": organization_id, "condition": Condition(condition).value, **claim}
            insert = dialect_insert(self._engine.dialect.name, AlertRow).values(first).on_conflict_do_nothing()
            inserted = connection.execute(insert.returning(AlertRow.organization_id)).first()
            return token if inserted is not None else None

    def sent(self, organization_id: int, condition: Condition, token: str, fingerprint: str, at: datetime) -> None:
        """The claimed mail went out: the state becomes what it said, and the claim ends."""
        values = {"fingerprint": fingerprint, "sent_at": at, "claimed_by": None, "claimed_until": None}
        self._end_claim(organization_id, condition, token, values, "recording a sent alert")

    def release(self, organization_id: int, condition: Condition, token: str) -> None:
        """The claimed mail did not go out: the claim ends and the state stays, so a later run tries again."""
        values = {"claimed_by": None, "claimed_until": None}
        self._end_claim(organization_id, condition, token, values, "releasing an alert claim")

    def _end_claim(
        self, organization_id: int, condition: Condition, token: str, values: dict[str, Any], action: str
    ) -> None:
        stmt = update(AlertRow).where(*_key(organization_id, condition), AlertRow.claimed_by == token).values(values)
        with translated_errors(action), self._engine.begin() as connection:
            connection.execute(stmt)

    # -- runs in a row ------------------------------------------------------------------------------------

    def streaks(self, organization_id: int) -> RunStreaks:
        """The tenant's FAILED runs and credential refusals in a row (none of either when nothing is stored)."""
        query = select(RunStreakRow).where(RunStreakRow.organization_id == organization_id)
        with translated_errors("reading run streaks"), self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return RunStreaks()
        failed = FailedStreak(row.failed_runs, row.failed_since, row.last_error)
        refused = row.refusals and row.last_refused_at is not None and row.credentials_fingerprint is not None
        refusals = Refusals(row.refusals, row.last_refused_at, row.credentials_fingerprint) if refused else None
        return RunStreaks(failed, refusals)

    def save_streaks(self, organization_id: int, streaks: RunStreaks) -> None:
        """Stores the tenant's streaks (the caller holds its run lock: no other run writes them meanwhile)."""
        refusals = streaks.refusals
        row = {
            "organization_id": organization_id,
            "failed_runs": streaks.failed.count,
            "failed_since": streaks.failed.since,
            "last_error": streaks.failed.last_error,
            "refusals": refusals.count if refusals else 0,
            "last_refused_at": refusals.last_at if refusals else None,
            "credentials_fingerprint": refusals.credentials if refusals else None,
        }
        with translated_errors("saving run streaks"), self._engine.begin() as connection:
            upsert(connection, RunStreakRow, [row], keys=["organization_id"])

    # -- the organization's admins ----------------------------------------------------------------------

    def admin_emails(self) -> dict[int, tuple[str, ...]]:
        """Every tenant's admin addresses for alert mails (tenants without any are left out)."""
        query = select(SettingsRow.organization_id, SettingsRow.alert_emails).where(
            SettingsRow.alert_emails.is_not(None)
        )
        with translated_errors("reading alert addresses"), self._engine.connect() as connection:
            return {row.organization_id: _split(row.alert_emails) for row in connection.execute(query)}

    def set_admin_emails(self, organization_id: int, addresses: Sequence[str]) -> bool:
        """Replaces the tenant's admin addresses (none: no mails to admins); False when the tenant is unknown."""
        stored = ", ".join(addresses) or None
        stmt = update(SettingsRow).where(SettingsRow.organization_id == organization_id).values(alert_emails=stored)
        with translated_errors("saving alert addresses"), self._engine.begin() as connection:
            return cast(CursorResult[Any], connection.execute(stmt)).rowcount == 1


def _key(organization_id: int, condition: Condition) -> tuple[Any, ...]:
    return AlertRow.organization_id == organization_id, AlertRow.condition == Condition(condition).value


def _split(stored: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (stored or "").split(",") if part.strip())

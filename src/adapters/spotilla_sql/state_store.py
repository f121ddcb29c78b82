"""`SqlStateStore`: the integration's own `procountor_` tables; every write commits before returning."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    and_,
    case,
    delete,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spotilla_procountor.adapters.spotilla_sql._sql import (
    chunked,
    dialect_insert,
    system_now,
    translated_errors,
    upsert,
)
from spotilla_procountor.adapters.spotilla_sql.run_lock import run_locks_for
from spotilla_procountor.adapters.spotilla_sql.state_models import (
    FenceRow,
    PartnerMirrorRow,
    RecordArchiveRow,
    RecordRow,
    RunEventRow,
    RunRow,
    WatermarkRow,
)
from spotilla_procountor.adapters.spotilla_sql.state_rows import event_of, record_of, record_values, run_of
from spotilla_procountor.adapters.spotilla_sql.tenant_config import (
    TenantConfig,
    read_tenant_configs,
    replace_secrets,
    write_tenant_config,
)
from spotilla_procountor.domain.errors import LockLost, RecordConflict
from spotilla_procountor.domain.held_writes import HeldWrites
from spotilla_procountor.domain.ports import Clock
from spotilla_procountor.domain.reasons import Reason
from spotilla_procountor.domain.state import (
    EntityKind,
    Event,
    Fence,
    Flow,
    Outcome,
    PartnerMirrorEntry,
    Record,
    RecordState,
    RunStatus,
    RunSummary,
)

PARTNERS_WATERMARK = "partners"
_RECORDS, _MIRROR = RecordRow.__table__, PartnerMirrorRow.__table__
_RECORD_KEY = ["organization_id", "kind", "spotilla_id"]
_INSERT_EVENT = insert(RunEventRow.__table__)


class SqlStateStore:
    """Records, claims and fences, partner mirror, watermarks, run log, run locks and tenant settings.

    Raises only `RepositoryError`. Each write is its own short transaction, committed on return, unless the
    calling thread is inside `together()`: then its writes wait and commit as one transaction when the block
    ends. The per-item paths run on SQLAlchemy Core with statements compiled once; the ORM serves the rest.
    """

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self._now = clock.now if clock is not None else system_now
        self._locks = run_locks_for(engine, self._now)
        self._held: HeldWrites[tuple[str, Callable[[Connection], object], Fence | None]] = HeldWrites()

    def together(self) -> AbstractContextManager[None]:
        """The writes this thread makes in the block commit as one transaction at its end; none if it raises.

        The writes wait until then, so the database is locked only for the commit itself, never while the
        block computes (on SQLite one writer at a time: other tenants' runs would wait). Nested blocks join
        the outermost one. Reads in the block do not see its writes.
        """
        return self._held.together(self._commit_held)

    def _commit_held(self, writes: list[tuple[str, Callable[[Connection], object], Fence | None]]) -> None:
        """One transaction; when any write carries a fence, it is checked first, and the whole block refused if lost."""
        fences = {fence for _action, _work, fence in writes if fence is not None}
        with translated_errors("committing writes made together"), _conflicts(), self._engine.begin() as connection:
            for fence in fences:
                self._check_fence(connection, fence)
            for action, work, _fence in writes:
                with translated_errors(action), _conflicts():
                    work(connection)

    # -- records and claims ----------------------------------------------------------------------------

    def records(
        self,
        organization_id: int,
        kind: EntityKind,
        spotilla_ids: Iterable[int] | None = None,
        *,
        states: Iterable[RecordState] | None = None,
    ) -> Mapping[int, Record]:
        """Records of a kind by Spotilla id (all, or those of the given ids, or those in the given states)."""
        query = select(_RECORDS).where(_RECORDS.c.organization_id == organization_id, _RECORDS.c.kind == kind.value)
        if states is not None:
            query = query.where(_RECORDS.c.state.in_([RecordState(s).value for s in states]))
        with translated_errors("reading records"), self._engine.connect() as connection:
            if spotilla_ids is None:
                rows = list(connection.execute(query))
            else:
                chunks = (query.where(_RECORDS.c.spotilla_id.in_(ids)) for ids in chunked(spotilla_ids))
                rows = [row for chunk in chunks for row in connection.execute(chunk)]
            return {row.spotilla_id: record_of(row) for row in rows}

    def claim(self, fence: Fence, record: Record) -> Record:
        """Stores the PENDING record in one transaction with a check that `fence` still holds the tenant's lock.

        The check is an UPDATE of the tenant's fence row: it locks the row until the claim commits, so a run that
        takes the lock next (and raises the epoch) waits for this claim and then sees it; a claim after that finds
        another epoch, or a lock no longer held, and is refused with `LockLost`.
        """
        with translated_errors("claiming an item"), self._engine.begin() as connection:
            self._check_fence(connection, fence)
            now = self._now()  # after the check: the claim's grace counts from when it holds
            claimed = replace(record, claim_epoch=fence.epoch, claimed_at=now, updated_at=now)
            since = _save_record(connection, _record_row(claimed, now))
        return replace(claimed, state_since=since)

    def _check_fence(self, connection: Connection, fence: Fence) -> None:
        """In the caller's transaction: locks the tenant's fence row if `fence` still holds, else `LockLost`."""
        guard = self._locks.guard(fence.organization_id, fence.holder)
        if guard is None:
            raise LockLost("this process does not hold the tenant's run lock")
        check = (
            update(FenceRow)
            .where(FenceRow.organization_id == fence.organization_id, FenceRow.epoch == fence.epoch, guard)
            .values(holder=FenceRow.holder)
        )
        if cast(CursorResult[Any], connection.execute(check)).rowcount != 1:
            raise LockLost(self._why_lost(connection, fence))

    def holds(self, fence: Fence) -> bool:
        """Whether `fence` is still the tenant's newest epoch and its lock is still held."""
        guard = self._locks.guard(fence.organization_id, fence.holder)
        if guard is None:
            return False
        query = select(FenceRow.epoch).where(
            FenceRow.organization_id == fence.organization_id, FenceRow.epoch == fence.epoch, guard
        )
        with translated_errors("checking the run lock"), self._engine.connect() as connection:
            return connection.execute(query).first() is not None

    @staticmethod
    def _why_lost(connection: Connection, fence: Fence) -> str:
        current = connection.execute(
            select(FenceRow.epoch, FenceRow.holder).where(FenceRow.organization_id == fence.organization_id)
        ).first()
        if current is not None and current.epoch != fence.epoch:
            return f"another run ({current.holder}) has taken the tenant's lock since"
        return "the lock is no longer held: its database connection dropped or its lease expired"

    def save_record(self, record: Record, *, fence: Fence | None = None) -> None:
        """Stores or replaces the record of (organization, kind, Spotilla id); a Procountor id paired twice fails.

        With `fence`, only while it still holds the tenant's lock (else `LockLost`, nothing stored): a run that lost
        its lock cannot overwrite what the run that took it has recorded since.
        """
        now = self._now()
        row = _record_row(record, now)
        self._write("saving a record", lambda c: _save_record(c, row), fence)

    def release(
        self, organization_id: int, kind: EntityKind, procountor_id: int, reason: Reason, *, fence: Fence | None = None
    ) -> None:
        """The records still holding a Procountor id that now belongs to another item let it go (see the port)."""
        now = self._now()
        holding = (
            RecordRow.organization_id == organization_id,
            RecordRow.kind == EntityKind(kind).value,
            RecordRow.procountor_id == procountor_id,
            RecordRow.state != RecordState.RETIRED.value,
        )
        values: dict[str, Any] = {"procountor_id": None, "updated_at": now}
        if kind != EntityKind.TASK:  # a task stays transferred; a product or customer waits to be paired again
            reasons = json.dumps([reason.to_json()], ensure_ascii=False)
            held = RecordState.HELD_BACK.value
            since = _state_since(held, literal(now, _RECORDS.c.state_since.type))
            values |= {"state": held, "fingerprint": None, "reasons": reasons, "state_since": since}
        stmt = update(RecordRow).where(*holding).values(values)
        self._write("releasing a Procountor id", lambda c: c.execute(stmt), fence)

    # -- partner mirror and watermark --------------------------------------------------------------

    def partner_mirror(self, organization_id: int) -> Mapping[int, PartnerMirrorEntry]:
        """Procountor partners seen so far, by partner id."""
        query = select(_MIRROR.c.partner_id, _MIRROR.c.business_id, _MIRROR.c.version).where(
            _MIRROR.c.organization_id == organization_id
        )
        with translated_errors("reading the partner mirror"), self._engine.connect() as connection:
            return {row.partner_id: PartnerMirrorEntry(*row) for row in connection.execute(query)}

    def remember_partners(self, organization_id: int, entries: Iterable[PartnerMirrorEntry]) -> None:
        """Adds or refreshes partners in the mirror (the last entry wins when a partner comes twice)."""
        latest = {entry.partner_id: entry for entry in entries}
        rows = [
            {"organization_id": organization_id, "partner_id": pid, "business_id": e.business_id, "version": e.version}
            for pid, e in latest.items()
        ]
        self._write(
            "remembering partners", lambda c: upsert(c, PartnerMirrorRow, rows, keys=["organization_id", "partner_id"])
        )

    def forget_partners(self, organization_id: int, partner_ids: Iterable[int]) -> None:
        """Drops partners from the mirror (Procountor no longer has them)."""
        ids = sorted(set(partner_ids))
        if not ids:
            return
        forget = delete(PartnerMirrorRow).where(
            PartnerMirrorRow.organization_id == organization_id, PartnerMirrorRow.partner_id.in_(ids)
        )
        self._write("forgetting partners", lambda c: c.execute(forget))

    def partner_watermark(self, organization_id: int) -> datetime | None:
        """Newest partner version seen, in Procountor's clock; None before the first pull."""
        with translated_errors("reading the partner watermark"), Session(self._engine) as session:
            row = session.get(WatermarkRow, (organization_id, PARTNERS_WATERMARK))
            return row.value if row is not None else None

    def set_partner_watermark(self, organization_id: int, moment: datetime) -> None:
        """Stores the partner watermark (overwrites; the caller decides whether it moves forward)."""
        row = {"organization_id": organization_id, "name": PARTNERS_WATERMARK, "value": moment}
        self._write(
            "saving the partner watermark", lambda c: upsert(c, WatermarkRow, [row], keys=["organization_id", "name"])
        )

    # -- run log -----------------------------------------------------------------------------------

    def start_run(self, organization_id: int, *, dry_run: bool = False) -> int:
        """Opens a RUNNING run in the run log; returns its id.

        A run of the tenant still marked RUNNING was abandoned by a process that died (the caller holds the
        tenant's run lock, so none can be under way): it is closed as INTERRUPTED first.
        """
        abandon = (
            update(RunRow)
            .where(RunRow.organization_id == organization_id, RunRow.status == RunStatus.RUNNING.value)
            .values(
                status=RunStatus.INTERRUPTED.value,
                finished_at=self._now(),
                error="the process stopped during the run; the next run carried on",
            )
        )
        values = {
            "organization_id": organization_id,
            "status": RunStatus.RUNNING.value,
            "started_at": self._now(),
            "counts": "{}",
            "dry_run": dry_run,
        }
        with translated_errors("starting a run"), self._engine.begin() as connection:
            connection.execute(abandon)
            return int(connection.execute(insert(RunRow).values(values).returning(RunRow.id)).scalar_one())

    def record_event(self, run_id: int, event: Event) -> None:
        """Appends one item's outcome to a run."""
        values = {
            "run_id": run_id,
            "flow": Flow(event.flow).value,
            "kind": EntityKind(event.kind).value,
            "spotilla_id": event.spotilla_id,
            "outcome": Outcome(event.outcome).value,
            "procountor_id": event.procountor_id,
            "reason_code": event.reason_code,
            "message": event.message,
            "created_at": self._now(),
        }
        self._write("recording a run event", lambda c: c.execute(_INSERT_EVENT, values))

    def finish_run(self, run_id: int, status: RunStatus, counts: Mapping[str, int], error: str | None = None) -> None:
        """Closes a run with its status, counts and (for a failed run) the error."""
        values = {
            "status": RunStatus(status).value,
            "finished_at": self._now(),
            "counts": json.dumps(dict(counts), sort_keys=True),
            "error": error,
        }
        with translated_errors("finishing a run"), self._engine.begin() as connection:
            connection.execute(update(RunRow).where(RunRow.id == run_id).values(values))

    def runs(
        self, organization_id: int, limit: int = 10, *, statuses: Iterable[RunStatus] | None = None
    ) -> list[RunSummary]:
        """The newest runs of a tenant (only those ending in `statuses`, when given), newest first."""
        query = select(RunRow).where(RunRow.organization_id == organization_id).order_by(RunRow.id.desc()).limit(limit)
        if statuses is not None:
            query = query.where(RunRow.status.in_([RunStatus(s).value for s in statuses]))
        with translated_errors("reading the run log"), Session(self._engine) as session:
            return [run_of(row) for row in session.scalars(query)]

    def run(self, organization_id: int, run_id: int) -> RunSummary | None:
        """One run of the tenant; None when there is none of that id, or it is another tenant's."""
        query = select(RunRow).where(RunRow.id == run_id, RunRow.organization_id == organization_id)
        with translated_errors("reading the run log"), Session(self._engine) as session:
            row = session.scalars(query).first()
            return run_of(row) if row is not None else None

    def run_events(self, run_id: int) -> list[Event]:
        """The events of one run, in the order they were recorded."""
        query = select(RunEventRow).where(RunEventRow.run_id == run_id).order_by(RunEventRow.id)
        with translated_errors("reading run events"), Session(self._engine) as session:
            return [event_of(row) for row in session.scalars(query)]

    # -- run locks ---------------------------------------------------------------------------------

    def acquire_run_lock(self, organization_id: int, holder: str, ttl_s: float) -> Fence | None:
        """Takes the tenant's run lock for `holder` and raises its epoch; None when another holder has it.

        PostgreSQL: an advisory lock on a connection held until release (`ttl_s` unused).
        SQLite: a lease row valid for `ttl_s` seconds, taken over by others once it has expired.
        The returned fence goes with every claim of the run.
        """
        with translated_errors("taking the run lock"):
            if not self._locks.acquire(organization_id, holder, ttl_s):
                return None
        try:
            return self._raise_epoch(organization_id, holder)
        except Exception:
            self.release_run_lock(organization_id, holder)
            raise

    def _raise_epoch(self, organization_id: int, holder: str) -> Fence:
        insert = dialect_insert(self._engine.dialect.name, FenceRow).values(
            organization_id=organization_id, epoch=1, holder=holder, taken_at=self._now()
        )
        bump = insert.on_conflict_do_update(
            index_elements=["organization_id"],
            set_={"epoch": FenceRow.epoch + 1, "holder": insert.excluded.holder, "taken_at": insert.excluded.taken_at},
        ).returning(FenceRow.epoch)
        with translated_errors("raising the run lock's epoch"), self._engine.begin() as connection:
            return Fence(organization_id, int(connection.execute(bump).scalar_one()), holder)

    def renew_run_lock(self, organization_id: int, holder: str, ttl_s: float) -> bool:
        """Extends `holder`'s lease by `ttl_s` from now; False when the lock is no longer `holder`'s."""
        with translated_errors("renewing the run lock"):
            return self._locks.renew(organization_id, holder, ttl_s)

    def release_run_lock(self, organization_id: int, holder: str) -> None:
        """Gives the lock up; does nothing when `holder` does not have it."""
        with translated_errors("releasing the run lock"):
            self._locks.release(organization_id, holder)

    @contextmanager
    def run_lock(self, organization_id: int, holder: str, ttl_s: float = 900) -> Iterator[Fence | None]:
        """Holds the tenant's run lock for the block; yields its fence, or None when it was not taken."""
        fence = self.acquire_run_lock(organization_id, holder, ttl_s)
        try:
            yield fence
        finally:
            if fence is not None:
                self.release_run_lock(organization_id, holder)

    # -- tenant settings ---------------------------------------------------------------------------

    def settings_rows(self) -> list[TenantConfig]:
        """Every tenant's `procountor_settings` row, enabled or not, by organization id."""
        with translated_errors("reading tenant settings"), Session(self._engine) as session:
            return read_tenant_configs(session)

    def settings_row(self, organization_id: int) -> TenantConfig | None:
        """One tenant's settings row, or None."""
        with translated_errors("reading tenant settings"), Session(self._engine) as session:
            return next(iter(read_tenant_configs(session, organization_id)), None)

    def save_settings(self, config: TenantConfig) -> None:
        """Inserts or overwrites a tenant's settings row (its `created_at` is kept)."""
        with translated_errors("saving tenant settings"), Session(self._engine) as session, session.begin():
            write_tenant_config(session, config, self._now())

    def replace_secrets(
        self, organization_id: int, old: tuple[str | None, str | None], new: tuple[str | None, str | None]
    ) -> bool:
        """A tenant's encrypted (client secret, API key) set to `new` if they are still `old`, in one transaction."""
        with translated_errors("re-encrypting tenant credentials"), Session(self._engine) as session, session.begin():
            return replace_secrets(session, organization_id, old, new)

    def _write(self, action: str, work: Callable[[Connection], object], fence: Fence | None = None) -> None:
        """Runs `work` in a transaction of its own (after checking `fence`, if given), or holds it for the end of the
        thread's `together()`."""
        if self._held.hold((action, work, fence)):
            return
        with translated_errors(action), _conflicts(), self._engine.begin() as connection:
            if fence is not None:
                self._check_fence(connection, fence)
            work(connection)

    # -- company switch and retries ----------------------------------------------------------------

    def archive_for_company_switch(self, organization_id: int, old_company_id: int | None) -> int:
        """Moves every record of the tenant to `procountor_records_archive` under the company it belonged to and
        forgets the partner mirror and watermark (that company's partner register), in one transaction: the next
        run starts fresh in the new company and nothing refers to the old one any more. Returns how many moved."""
        org = _RECORDS.c.organization_id == organization_id
        kept = ("kind", "spotilla_id", "procountor_id", "state", "reasons", "fingerprint", "updated_at", "state_since")
        copy = insert(RecordArchiveRow.__table__).from_select(
            ["organization_id", "company_id", *kept, "archived_at"],
            select(
                _RECORDS.c.organization_id,
                literal(old_company_id, BigInteger()),
                *(_RECORDS.c[name] for name in kept),
                literal(self._now(), RecordArchiveRow.__table__.c.archived_at.type),
            ).where(org),
        )
        with translated_errors("archiving the old company's records"), self._engine.begin() as connection:
            connection.execute(copy)
            moved = cast(CursorResult[Any], connection.execute(delete(_RECORDS).where(org))).rowcount
            connection.execute(delete(_MIRROR).where(_MIRROR.c.organization_id == organization_id))
            connection.execute(delete(WatermarkRow).where(WatermarkRow.organization_id == organization_id))
        return moved

    def requeue(
        self, organization_id: int, kind: EntityKind | None = None, spotilla_ids: Iterable[int] | None = None
    ) -> int:
        """Lets the next run try refused (FAILED) and held-back items again by forgetting the data they were judged
        on (their fingerprint); all of the tenant's, or those of a kind, or of given Spotilla ids. Returns how many."""
        query = update(RecordRow).where(
            RecordRow.organization_id == organization_id,
            RecordRow.state.in_([RecordState.FAILED.value, RecordState.HELD_BACK.value]),
            RecordRow.fingerprint.is_not(None),
        )
        if kind is not None:
            query = query.where(RecordRow.kind == EntityKind(kind).value)
        queries = (
            [query]
            if spotilla_ids is None
            else [query.where(RecordRow.spotilla_id.in_(ids)) for ids in chunked(spotilla_ids)]
        )
        with translated_errors("re-queueing items"), self._engine.begin() as connection:
            results = [connection.execute(q.values(fingerprint=None)) for q in queries]
            return sum(cast(CursorResult[Any], r).rowcount for r in results)


@contextmanager
def _conflicts() -> Iterator[None]:
    """A record pairing a Procountor object another record holds: `RecordConflict`, an item's problem, not the run's."""
    try:
        yield
    except IntegrityError as exc:
        if _RECORD_UNIQUE not in str(exc.orig) and "procountor_records.organization_id" not in str(exc.orig):
            raise
        raise RecordConflict(f"a Procountor object is already paired with another item: {exc.orig}") from exc


_RECORD_UNIQUE = "uq_procountor_records_organization_id_kind_procountor_id"


def _record_row(record: Record, now: datetime) -> dict[str, Any]:
    """The row as saved at `now`; its `state_since` is `now` unless the stored row keeps its own (`_save_record`)."""
    return {**record_values(record), "updated_at": record.updated_at or now, "state_since": now}


def _save_record(connection: Connection, row: dict[str, Any]) -> datetime | None:
    """Inserts or overwrites a record's row; returns its `state_since` as stored."""
    return cast(datetime | None, connection.execute(_record_upsert(connection.dialect.name), row).scalar_one())


@lru_cache(maxsize=4)
def _record_upsert(dialect: str) -> Any:
    """Like `upsert`, built once per database with the row as parameters, but `state_since` stays while the state
    does: an item held back and judged again each run is held back since the first time."""
    stmt = dialect_insert(dialect, RecordRow)
    overwrite = {c.name: stmt.excluded[c.name] for c in _RECORDS.columns if c.name not in _RECORD_KEY}
    overwrite["state_since"] = _state_since(stmt.excluded.state, stmt.excluded.state_since)
    return stmt.on_conflict_do_update(index_elements=_RECORD_KEY, set_=overwrite).returning(_RECORDS.c.state_since)


def _state_since(new_state: Any, new_since: ColumnElement[Any]) -> ColumnElement[Any]:
    """In a write of a record's row: its `state_since` when its state stays `new_state`, else `new_since`."""
    stays = and_(_RECORDS.c.state == new_state, _RECORDS.c.state_since.is_not(None))
    return case((stays, _RECORDS.c.state_since), else_=new_since)

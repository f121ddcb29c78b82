"""In-memory Spotilla and state store: readable fakes that satisfy the ports, for specs and quick demos."""

from __future__ import annotations

import copy
import functools
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime

from spotilla_procountor.domain.errors import LockLost, RecordConflict
from spotilla_procountor.domain.held_writes import HeldWrites
from spotilla_procountor.domain.model import (
    Customer,
    CustomerFields,
    IntegrationSettings,
    Product,
    Task,
    TaskStatus,
)
from spotilla_procountor.domain.ports import Clock
from spotilla_procountor.domain.reasons import Reason
from spotilla_procountor.domain.state import (
    EntityKind,
    Event,
    Fence,
    PartnerMirrorEntry,
    Record,
    RecordState,
    RunStatus,
    RunSummary,
)


class SystemClock:
    """The real time, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def _deferrable(write: Callable[..., None]) -> Callable[..., None]:
    """A write that, inside the calling thread's `together()` block, waits for the block to end."""

    @functools.wraps(write)
    def deferred(self: InMemoryStateStore, *args: object, **kwargs: object) -> None:
        if not self._held.hold(functools.partial(write, self, *args, **kwargs)):
            write(self, *args, **kwargs)

    return deferred


@dataclass
class InMemoryStateStore:
    """The integration's own state held in dictionaries; state is public so tests can read it.

    Run locks are held per organization with an epoch raised on each take, as the SQL store does; `lose_lock`
    makes a holder lose its lock (as a dropped connection or an expired lease would).
    """

    record_rows: dict[tuple[int, EntityKind, int], Record] = field(default_factory=dict)
    mirror: dict[int, dict[int, PartnerMirrorEntry]] = field(default_factory=dict)
    watermarks: dict[int, datetime] = field(default_factory=dict)
    run_log: dict[int, RunSummary] = field(default_factory=dict)
    events: dict[int, list[Event]] = field(default_factory=dict)
    epochs: dict[int, int] = field(default_factory=dict)
    lock_holders: dict[int, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _held: HeldWrites[Callable[[], None]] = field(default_factory=HeldWrites)

    def together(self) -> AbstractContextManager[None]:
        """Like the SQL store: the thread's writes in the block are applied when it ends, none if it raises,
        and all or none of them (a write refused on the way undoes the ones before it)."""
        return self._held.together(self._apply_all)

    def _apply_all(self, writes: list[Callable[[], None]]) -> None:
        tables = (self.record_rows, self.mirror, self.watermarks, self.events)
        saved = [
            {key: copy.copy(value) for key, value in table.items()} for table in tables
        ]  # values: frozen or one level
        try:
            for write in writes:
                write()
        except BaseException:
            for table, before in zip(tables, saved, strict=True):
                table.clear()
                table.update(before)
            raise

    # -- run locks and claims ----------------------------------------------------------------------

    def acquire_run_lock(self, organization_id: int, holder: str, ttl_s: float = 900) -> Fence | None:
        with self._lock:
            if self.lock_holders.get(organization_id, holder) != holder:
                return None
            self.lock_holders[organization_id] = holder
            self.epochs[organization_id] = self.epochs.get(organization_id, 0) + 1
            return Fence(organization_id, self.epochs[organization_id], holder)

    def renew_run_lock(self, organization_id: int, holder: str, ttl_s: float = 900) -> bool:
        with self._lock:
            return self.lock_holders.get(organization_id) == holder

    def release_run_lock(self, organization_id: int, holder: str) -> None:
        with self._lock:
            if self.lock_holders.get(organization_id) == holder:
                del self.lock_holders[organization_id]

    def lose_lock(self, organization_id: int) -> None:
        """The tenant's lock is gone from under its holder, who has not noticed yet."""
        with self._lock:
            self.lock_holders.pop(organization_id, None)

    @contextmanager
    def run_lock(self, organization_id: int, holder: str, ttl_s: float = 900) -> Iterator[Fence | None]:
        fence = self.acquire_run_lock(organization_id, holder, ttl_s)
        try:
            yield fence
        finally:
            if fence is not None:
                self.release_run_lock(organization_id, holder)

    def holds(self, fence: Fence) -> bool:
        with self._lock:
            return self._holds(fence)

    def _holds(self, fence: Fence) -> bool:
        org = fence.organization_id
        return self.epochs.get(org) == fence.epoch and self.lock_holders.get(org) == fence.holder

    def claim(self, fence: Fence, record: Record) -> Record:
        now = self.clock.now()
        claimed = replace(record, claim_epoch=fence.epoch, claimed_at=now, updated_at=now)
        with self._lock:
            if not self._holds(fence):
                raise LockLost("the run no longer holds the tenant's lock")
            return self._store(claimed, now)

    # -- records -----------------------------------------------------------------------------------

    def records(
        self,
        organization_id: int,
        kind: EntityKind,
        spotilla_ids: Iterable[int] | None = None,
        *,
        states: Iterable[RecordState] | None = None,
    ) -> Mapping[int, Record]:
        wanted = None if spotilla_ids is None else set(spotilla_ids)
        in_states = None if states is None else set(states)
        with self._lock:
            return {
                sid: r
                for (o, k, sid), r in self.record_rows.items()
                if o == organization_id
                and k == kind
                and (wanted is None or sid in wanted)
                and (in_states is None or r.state in in_states)
            }

    @_deferrable
    def save_record(self, record: Record, *, fence: Fence | None = None) -> None:
        with self._lock:
            if fence is not None and not self._holds(fence):
                raise LockLost("the run no longer holds the tenant's lock")
            now = self.clock.now()
            self._store(replace(record, updated_at=record.updated_at or now), now)

    @_deferrable
    def release(
        self, organization_id: int, kind: EntityKind, procountor_id: int, reason: Reason, *, fence: Fence | None = None
    ) -> None:
        with self._lock:
            if fence is not None and not self._holds(fence):
                raise LockLost("the run no longer holds the tenant's lock")
            for key, record in list(self.record_rows.items()):
                if key[:2] != (organization_id, kind) or record.procountor_id != procountor_id:
                    continue
                if record.state == RecordState.RETIRED:
                    continue
                self.record_rows[key] = _released(record, reason, self.clock.now())

    def _store(self, record: Record, now: datetime) -> Record:
        """Stores the record as saved at `now` (its `state_since` kept while its state stays) and returns it."""
        for (org, kind, sid), other in self.record_rows.items():
            same_target = (org, kind) == (record.organization_id, record.kind) and sid != record.spotilla_id
            held = RecordState.RETIRED not in (other.state, record.state)
            if (
                same_target
                and held
                and record.procountor_id is not None
                and other.procountor_id == record.procountor_id
            ):
                raise RecordConflict(f"{record.kind} {record.procountor_id} is already paired with {sid}")
        key = (record.organization_id, record.kind, record.spotilla_id)
        stored = replace(record, state_since=_state_since(self.record_rows.get(key), record.state, now))
        self.record_rows[key] = stored
        return stored

    def partner_mirror(self, organization_id: int) -> Mapping[int, PartnerMirrorEntry]:
        with self._lock:
            return dict(self.mirror.get(organization_id, {}))

    @_deferrable
    def remember_partners(self, organization_id: int, entries: Iterable[PartnerMirrorEntry]) -> None:
        with self._lock:
            self.mirror.setdefault(organization_id, {}).update({e.partner_id: e for e in entries})

    @_deferrable
    def forget_partners(self, organization_id: int, partner_ids: Iterable[int]) -> None:
        with self._lock:
            for partner_id in partner_ids:
                self.mirror.get(organization_id, {}).pop(partner_id, None)

    def partner_watermark(self, organization_id: int) -> datetime | None:
        return self.watermarks.get(organization_id)

    @_deferrable
    def set_partner_watermark(self, organization_id: int, moment: datetime) -> None:
        self.watermarks[organization_id] = moment

    def start_run(self, organization_id: int, *, dry_run: bool = False) -> int:
        with self._lock:
            for earlier in [r for r in self.run_log.values() if r.organization_id == organization_id]:
                if earlier.status == RunStatus.RUNNING:  # abandoned by a process that died
                    self.run_log[earlier.id] = replace(
                        earlier, status=RunStatus.INTERRUPTED, finished_at=self.clock.now()
                    )
            run_id = next(self._ids)
            self.run_log[run_id] = RunSummary(run_id, organization_id, RunStatus.RUNNING, self.clock.now())
            self.events[run_id] = []
            return run_id

    @_deferrable
    def record_event(self, run_id: int, event: Event) -> None:
        with self._lock:
            self.events[run_id].append(event)

    def finish_run(self, run_id: int, status: RunStatus, counts: Mapping[str, int], error: str | None = None) -> None:
        with self._lock:
            run = self.run_log[run_id]
            self.run_log[run_id] = replace(
                run, status=status, finished_at=self.clock.now(), counts=dict(counts), error=error
            )

    def runs(
        self, organization_id: int, limit: int = 10, *, statuses: Iterable[RunStatus] | None = None
    ) -> list[RunSummary]:
        wanted = None if statuses is None else set(statuses)
        with self._lock:
            mine = [
                r
                for r in self.run_log.values()
                if r.organization_id == organization_id and (wanted is None or r.status in wanted)
            ]
            return sorted(mine, key=lambda r: r.id, reverse=True)[:limit]

    # -- company switch and retries ----------------------------------------------------------------

    archived: list[tuple[int | None, Record]] = field(default_factory=list)
    """(company id, record) of the companies the tenants switched away from."""

    def archive_for_company_switch(self, organization_id: int, old_company_id: int | None) -> int:
        with self._lock:
            mine = [key for key in self.record_rows if key[0] == organization_id]
            self.archived += [(old_company_id, self.record_rows.pop(key)) for key in mine]
            self.mirror.pop(organization_id, None)
            self.watermarks.pop(organization_id, None)
            return len(mine)

    def requeue(
        self, organization_id: int, kind: EntityKind | None = None, spotilla_ids: Iterable[int] | None = None
    ) -> int:
        wanted = None if spotilla_ids is None else set(spotilla_ids)
        with self._lock:
            keys = [
                key
                for key, r in self.record_rows.items()
                if key[0] == organization_id
                and (kind is None or key[1] == kind)
                and (wanted is None or key[2] in wanted)
                and r.state in (RecordState.FAILED, RecordState.HELD_BACK)
                and r.fingerprint is not None
            ]
            for key in keys:
                self.record_rows[key] = replace(self.record_rows[key], fingerprint=None)
            return len(keys)


@dataclass
class InMemorySpotilla:
    """Spotilla's registers in dictionaries; `state` tells which tasks already have an invoice."""

    state: InMemoryStateStore
    tenant_settings: dict[int, IntegrationSettings] = field(default_factory=dict)
    customer_rows: dict[int, Customer] = field(default_factory=dict)
    product_rows: dict[int, Product] = field(default_factory=dict)
    task_rows: dict[int, Task] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(100_000))

    def settings(self, organization_id: int) -> IntegrationSettings | None:
        return self.tenant_settings.get(organization_id)

    def products(self, organization_id: int, ids: Iterable[int] | None = None) -> list[Product]:
        wanted = None if ids is None else set(ids)
        return [
            p
            for p in self.product_rows.values()
            if p.organization_id == organization_id and (wanted is None or p.id in wanted)
        ]

    def customers(self, organization_id: int, ids: Iterable[int] | None = None) -> list[Customer]:
        wanted = None if ids is None else set(ids)
        return [
            c
            for c in self.customer_rows.values()
            if c.organization_id == organization_id and (wanted is None or c.id in wanted)
        ]

    def tasks_awaiting_invoice(self, organization_id: int) -> list[Task]:
        done = set(self.state.records(organization_id, EntityKind.TASK, states=[RecordState.LINKED]))
        return [
            t
            for t in self.task_rows.values()
            if t.organization_id == organization_id and t.status == TaskStatus.COMPLETED and t.id not in done
        ]

    def display_names(self, organization_id: int, kind: EntityKind, ids: Iterable[int]) -> dict[int, str]:
        rows, name = {
            EntityKind.TASK: (self.task_rows, "title"),
            EntityKind.CUSTOMER: (self.customer_rows, "name"),
            EntityKind.PRODUCT: (self.product_rows, "name"),
        }[EntityKind(kind)]
        found = (rows[i] for i in set(ids) if i in rows and rows[i].organization_id == organization_id)
        return {item.id: getattr(item, name).strip() for item in found if (getattr(item, name) or "").strip()}

    def add_customer(self, organization_id: int, fields_: CustomerFields) -> int:
        customer_id = next(self._ids)
        values = {f.name: getattr(fields_, f.name) for f in fields(CustomerFields)}
        self.customer_rows[customer_id] = Customer(id=customer_id, organization_id=organization_id, **values)
        return customer_id

    def update_customer(self, organization_id: int, customer_id: int, fields_: CustomerFields) -> None:
        values = {f.name: getattr(fields_, f.name) for f in fields(CustomerFields)}
        self.customer_rows[customer_id] = replace(self.customer_rows[customer_id], **values)


def _released(record: Record, reason: Reason, now: datetime) -> Record:
    if record.kind == EntityKind.TASK:  # still transferred; the invoice it was is gone with Procountor's data
        return replace(record, procountor_id=None, updated_at=now)
    return replace(
        record,
        state=RecordState.HELD_BACK,
        procountor_id=None,
        fingerprint=None,
        reasons=(reason,),
        updated_at=now,
        state_since=_state_since(record, RecordState.HELD_BACK, now),
    )


def _state_since(before: Record | None, state: RecordState, now: datetime) -> datetime:
    """A record saved in `state` at `now` is in it since `before`'s time when it already was (see the SQL store)."""
    if before is not None and before.state == state and before.state_since is not None:
        return before.state_since
    return now

"""In-memory Spotilla and state store: readable fakes that satisfy the ports, for specs and quick demos."""

from __future__ import annotations

import copy
import functools
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime

from spotilla_procountor.adapters.held_writes import HeldWrites
from spotilla_procountor.domain.model import (
    Customer,
    CustomerFields,
    IntegrationSettings,
    Product,
    Task,
    TaskStatus,
)
from spotilla_procountor.domain.state import (
    EntityKind,
    Event,
    Link,
    PartnerMirrorEntry,
    RunStatus,
    RunSummary,
    TransferRecord,
    TransferState,
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
    """The integration's own state held in dictionaries; state is public so tests can read it."""

    links_by_key: dict[tuple[int, EntityKind, int], Link] = field(default_factory=dict)
    transfer_records: dict[tuple[int, int], TransferRecord] = field(default_factory=dict)
    mirror: dict[int, dict[int, PartnerMirrorEntry]] = field(default_factory=dict)
    watermarks: dict[int, datetime] = field(default_factory=dict)
    run_log: dict[int, RunSummary] = field(default_factory=dict)
    events: dict[int, list[Event]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _held: HeldWrites[Callable[[], None]] = field(default_factory=HeldWrites)

    def together(self) -> AbstractContextManager[None]:
        """Like the SQL store: the thread's writes in the block are applied when it ends, none if it raises,
        and all or none of them (a write refused on the way undoes the ones before it)."""
        return self._held.together(self._apply_all)

    def _apply_all(self, writes: list[Callable[[], None]]) -> None:
        tables = (self.links_by_key, self.transfer_records, self.mirror, self.watermarks, self.events)
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

    def links(self, organization_id: int, kind: EntityKind) -> Mapping[int, Link]:
        with self._lock:
            return {k[2]: v for k, v in self.links_by_key.items() if k[0] == organization_id and k[1] == kind}

    @_deferrable
    def save_link(self, link: Link) -> None:
        with self._lock:
            for key, other in self.links_by_key.items():
                same_target = (key[0], key[1]) == (link.organization_id, link.kind) and key[2] != link.spotilla_id
                if same_target and link.procountor_id is not None and other.procountor_id == link.procountor_id:
                    raise ValueError(f"{link.kind} {link.procountor_id} is already linked to {key[2]}")
            self.links_by_key[(link.organization_id, link.kind, link.spotilla_id)] = link

    def transfers(
        self,
        organization_id: int,
        task_ids: Iterable[int] | None = None,
        *,
        states: Iterable[TransferState] | None = None,
    ) -> Mapping[int, TransferRecord]:
        with self._lock:
            wanted = None if task_ids is None else set(task_ids)
            in_states = None if states is None else set(states)
            return {
                t: r
                for (o, t), r in self.transfer_records.items()
                if o == organization_id
                and (wanted is None or t in wanted)
                and (in_states is None or r.state in in_states)
            }

    @_deferrable
    def save_transfer(self, record: TransferRecord) -> None:
        with self._lock:
            self.transfer_records[(record.organization_id, record.task_id)] = record

    def partner_mirror(self, organization_id: int) -> Mapping[int, PartnerMirrorEntry]:
        with self._lock:
            return dict(self.mirror.get(organization_id, {}))

    @_deferrable
    def remember_partners(self, organization_id: int, entries: Iterable[PartnerMirrorEntry]) -> None:
        with self._lock:
            self.mirror.setdefault(organization_id, {}).update({e.partner_id: e for e in entries})

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
                        earlier, status=RunStatus.INTERRUPTED, finished_at=datetime.now(UTC)
                    )
            run_id = next(self._ids)
            self.run_log[run_id] = RunSummary(run_id, organization_id, RunStatus.RUNNING, datetime.now(UTC))
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
                run, status=status, finished_at=datetime.now(UTC), counts=dict(counts), error=error
            )

    def runs(self, organization_id: int, limit: int = 10) -> list[RunSummary]:
        with self._lock:
            mine = [r for r in self.run_log.values() if r.organization_id == organization_id]
            return sorted(mine, key=lambda r: r.id, reverse=True)[:limit]


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
        done = set(self.state.transfers(organization_id, states=[TransferState.CREATED]))
        return [
            t
            for t in self.task_rows.values()
            if t.organization_id == organization_id and t.status == TaskStatus.COMPLETED and t.id not in done
        ]

    def add_customer(self, organization_id: int, fields_: CustomerFields) -> int:
        customer_id = next(self._ids)
        values = {f.name: getattr(fields_, f.name) for f in fields(CustomerFields)}
        self.customer_rows[customer_id] = Customer(id=customer_id, organization_id=organization_id, **values)
        return customer_id

    def update_customer(self, organization_id: int, customer_id: int, fields_: CustomerFields) -> None:
        values = {f.name: getattr(fields_, f.name) for f in fields(CustomerFields)}
        self.customer_rows[customer_id] = replace(self.customer_rows[customer_id], **values)

"""Test seam: SIGKILL the process at a named point of a create (`SPOTILLA_RELIABILITY_CRASH_AT`).

Only the reliability suite uses it: `crashing_cli.py` runs the real command line with the container's state store
and gateway factory overridden by the ones here; the production wiring knows nothing of it.

`flow:point:n` kills the process at the n-th time `point` of `flow` is
reached, e.g. `invoice:after_record_stored:7`. Flows: `invoice`, `partner`, `product`. Points, in the order
a create passes them: `after_record_stored` (the PENDING transfer record or link is committed),
`after_request_sent` (Procountor answered, the answer has not reached the gateway), `after_answer` (the
gateway returned the created object, nothing recorded yet), `after_recorded` (the LINKED state is
committed). The seam is a set of decorators around the StateStore, the gateway and its httpx transport.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from dependency_injector import providers

from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway
from spotilla_procountor.adapters.procountor_http.transport import network_transport
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.app.gateways import GatewayFactory
from spotilla_procountor.domain.held_writes import HeldWrites
from spotilla_procountor.domain.state import EntityKind, Fence, Record, RecordState

FLOWS = ("invoice", "partner", "product")
POINTS = ("after_record_stored", "after_request_sent", "after_answer", "after_recorded")
_FLOW_OF_KIND = {EntityKind.CUSTOMER: "partner", EntityKind.PRODUCT: "product", EntityKind.TASK: "invoice"}
_FLOW_OF_CREATE = {"/invoices": "invoice", "/businesspartners": "partner", "/products": "product"}


@dataclass
class CrashPlan:
    """Where to die, and how often that point has been passed so far in this process."""

    flow: str
    point: str
    at_hit: int
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, spec: str | None) -> CrashPlan | None:
        """`flow:point:n`, or None for no crash at all."""
        if not spec:
            return None
        flow, point, at_hit = spec.split(":")
        if flow not in FLOWS or point not in POINTS or int(at_hit) < 1:
            raise ValueError(f"crash point must be flow:point:n with flow in {FLOWS} and point in {POINTS}")
        return cls(flow, point, int(at_hit))

    def passed(self, flow: str, point: str) -> None:
        """Counts a pass of the point; the n-th pass kills the process at once, like a power cut."""
        if (flow, point) != (self.flow, self.point):
            return
        with self._lock:
            self.hits += 1
            if self.hits == self.at_hit:
                os.kill(os.getpid(), signal.SIGKILL)


class CrashingStateStore:
    """A StateStore that dies right after a PENDING or a final state is committed.

    A write inside `together()` is committed when the block ends, so its point is passed only then.
    """

    def __init__(self, inner: Any, plan: CrashPlan) -> None:
        self._inner = inner
        self._plan = plan
        self._held: HeldWrites[tuple[str, str]] = HeldWrites()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @contextmanager
    def together(self) -> Iterator[None]:
        # The inner block commits first (it is left first), then the points of its writes are passed.
        with self._held.together(self._pass_all), self._inner.together():
            yield

    def _pass_all(self, points: list[tuple[str, str]]) -> None:
        for flow, point in points:
            self._plan.passed(flow, point)

    def _passed(self, flow: str, point: str) -> None:
        if not self._held.hold((flow, point)):
            self._plan.passed(flow, point)

    def claim(self, fence: Fence, record: Record) -> Record:
        claimed = self._inner.claim(fence, record)
        self._plan.passed(_FLOW_OF_KIND[record.kind], "after_record_stored")
        return claimed

    def save_record(self, record: Record, *, fence: Fence | None = None) -> None:
        self._inner.save_record(record, fence=fence)
        if record.state == RecordState.LINKED:
            self._passed(_FLOW_OF_KIND[record.kind], "after_recorded")


class CrashingTransport(httpx.BaseTransport):
    """Dies after Procountor answered a create, before the answer is handed back to the client."""

    def __init__(self, inner: httpx.BaseTransport, plan: CrashPlan) -> None:
        self._inner = inner
        self._plan = plan

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.method == "POST" and response.status_code < 400:
            for suffix, flow in _FLOW_OF_CREATE.items():
                if request.url.path.endswith(suffix):
                    self._plan.passed(flow, "after_request_sent")
        return response

    def close(self) -> None:
        self._inner.close()


class CrashingGateway:
    """A ProcountorGateway that dies after a create returned, before the caller records it."""

    def __init__(self, inner: HttpProcountorGateway, plan: CrashPlan) -> None:
        self._inner = inner
        self._plan = plan

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> CrashingGateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._inner.close()

    def create_invoice(self, draft: Any) -> Any:
        created = self._inner.create_invoice(draft)
        self._plan.passed("invoice", "after_answer")
        return created

    def create_partner(self, partner: Any) -> Any:
        created = self._inner.create_partner(partner)
        self._plan.passed("partner", "after_answer")
        return created

    def create_product(self, product: Any) -> Any:
        created = self._inner.create_product(product)
        self._plan.passed("product", "after_answer")
        return created


class CrashingGatewayFactory(GatewayFactory):
    """Gateways that die at the crash points, over a transport that dies after Procountor answered a create."""

    def __init__(self, *, plan: CrashPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._plan = plan

    def transport(self) -> httpx.BaseTransport | None:
        inner = super().transport() or network_transport(self._settings.max_in_flight)
        return CrashingTransport(inner, self._plan)

    def gateway(self, **kwargs: Any) -> Any:
        return CrashingGateway(super().gateway(**kwargs), self._plan)


def install(container: Any, plan: CrashPlan) -> None:
    """Overrides the container's state store and gateway factory with ones that die at `plan`'s point."""
    inner = providers.Singleton(SqlStateStore, container.engine, clock=container.clock)
    container.state.override(providers.Singleton(CrashingStateStore, inner, plan))
    container.gateways.override(
        providers.Singleton(
            CrashingGatewayFactory, settings=container.settings, transport=container.procountor_transport, plan=plan
        )
    )

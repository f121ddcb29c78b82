"""A run stopped between items ends INTERRUPTED when asked to stop, FAILED when what it relies on broke."""

from datetime import UTC, datetime
from decimal import Decimal

from spotilla_procountor.adapters.memory import InMemorySpotilla, InMemoryStateStore, SystemClock
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway
from spotilla_procountor.domain.concurrency import StopRequest
from spotilla_procountor.domain.model import Customer, IntegrationSettings, Product, Task, TaskProduct, TaskStatus
from spotilla_procountor.domain.state import RunStatus
from spotilla_procountor.domain.sync import SyncCycle
from spotilla_procountor.domain.sync_context import SyncOptions


def _cycle(stop: StopRequest) -> tuple[SyncCycle, FakeProcountor]:
    state = InMemoryStateStore()
    spotilla = InMemorySpotilla(state, tenant_settings={1: IntegrationSettings(1)})
    spotilla.customer_rows[1] = Customer(1, 1, "Asiakas Oy", "0112038-9", city="Helsinki")
    spotilla.product_rows[1] = Product(1, 1, "H-1", "Asennustyö", "h", Decimal("49.90"), Decimal("25.5"))
    done = datetime(2026, 11, 20, tzinfo=UTC)
    spotilla.task_rows[1] = Task(
        1, 1, 1, "Huolto", TaskStatus.COMPLETED, None, done, products=(TaskProduct(1, 1, Decimal(1)),)
    )
    fake = FakeProcountor()
    gateway = HttpProcountorGateway(
        base_url="http://fake.invalid", client_id="demo-client", client_secret="demo-secret",
        api_key="demo-api-key", bank_account="FI4950009420028730", transport=fake.transport(),
    )  # fmt: skip
    cycle = SyncCycle(
        procountor=gateway, spotilla=spotilla, state=state, clock=SystemClock(), options=SyncOptions(stop=stop)
    )
    return cycle, fake, state.acquire_run_lock(1, "test")


def test_a_run_asked_to_stop_ends_interrupted_and_sends_nothing_more() -> None:
    stop = StopRequest()
    stop.set()
    cycle, fake, fence = _cycle(stop)
    report = cycle.run(1, fence=fence)
    assert report.status == RunStatus.INTERRUPTED
    assert fake.invoices() == []


def test_a_run_whose_lock_was_lost_ends_failed_with_the_reason() -> None:
    stop = StopRequest()
    stop.fail("the run lost its lock on the tenant")
    cycle, fake, fence = _cycle(stop)
    report = cycle.run(1, fence=fence)
    assert report.status == RunStatus.FAILED
    assert report.error == "the run lost its lock on the tenant"
    assert fake.invoices() == []

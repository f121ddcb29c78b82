"""Procountor misbehaving, through the fake on loopback: afterwards converged, nothing doubled, no change missed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from harness import scaled, wait_until

from spotilla_procountor.adapters.procountor_fake import FakeProcountor, FaultPlan

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.loopback, pytest.mark.slow]

CREATES = ("POST /invoices", "POST /businesspartners", "POST /products")
FAULTS = {
    # Rates are high because the CI slice makes only a few dozen requests; the test asserts faults did happen.
    "5xx bursts": FaultPlan(error_rate={"*": 0.3}),
    "429 with Retry-After": FaultPlan(burst_429={"*": 6, "POST /invoices": 6}, retry_after_s=1),
    # The fake sleeps past the service's 5 s request timeout (harness.py), so the service really gives up waiting.
    "read timeouts": FaultPlan(timeout_rate={c: 0.35 for c in CREATES} | {"GET /invoices": 0.2}, timeout_sleep_s=6),
    "connection reset mid-body": FaultPlan(
        commit_then_fail_rate={c: 0.25 for c in CREATES}, commit_then_fail_mode="drop"
    ),
    "commit then fail": FaultPlan(commit_then_fail_rate={c: 0.25 for c in CREATES}, commit_then_fail_mode="500"),
}


def _converge(world, max_runs: int = 10) -> None:
    """Runs under the faults until a run succeeds with nothing in doubt, then once more without faults."""
    for _ in range(max_runs):
        world.run()
        if world.settled():
            break
    world.set_faults(FaultPlan())
    world.sync_until_settled()


@pytest.mark.parametrize("fault", FAULTS)
def test_under_api_faults_every_task_is_invoiced_exactly_once(make_world, figures, fault):
    world = make_world("postgres")
    world.seed(customers=scaled(4), products=scaled(3), tasks=scaled(10))
    world.set_faults(FAULTS[fault])
    figures.notes.append(fault)
    _converge(world)
    injected = world.fake.faults_injected
    figures.faults = sum(injected.values())
    figures.notes.append(", ".join(f"{kind} ×{n}" for kind, n in sorted(injected.items())))
    assert figures.faults > 0, f"no {fault} fault was injected: the scenario proved nothing"
    if fault == "read timeouts":
        runs = world.state.runs(world.org, limit=100)
        said = [e.message or "" for run in runs for e in world.state.run_events(run.id)]
        assert any("ReadTimeout" in text for text in said), "the service never gave up waiting for an answer"
    world.check_end_state()
    world.assert_quiet_rerun()
    world.assert_no_secret_leaked()


def test_tokens_expiring_mid_run_are_renewed_and_nothing_is_doubled(make_world, figures):
    world = make_world("postgres", fake=FakeProcountor(token_lifetime_s=0.3))
    world.seed(customers=scaled(4), products=scaled(3), tasks=scaled(10))
    world.set_faults(FaultPlan(latency_ms=20))
    _converge(world)
    tokens = len(world.fake.store.tokens)
    figures.faults = tokens
    figures.notes.append(f"token lifetime 0.3 s, {tokens} tokens issued")
    assert tokens > 2, "tokens did expire mid-run"
    world.check_end_state()
    world.assert_quiet_rerun()
    world.assert_no_secret_leaked()


def _name_in_spotilla(world, customer_id: int) -> str:
    with world.engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT name FROM customers WHERE id = {int(customer_id)}").scalar_one()


def _linked_customer(world) -> tuple[int, int]:
    from spotilla_procountor.domain.state import EntityKind

    links = world.state.records(world.org, EntityKind.CUSTOMER)
    customer_id, link = sorted(links.items())[0]
    return customer_id, link.procountor_id


def test_a_partner_edited_in_procountor_while_the_pull_pages_is_not_missed(make_world, figures):
    world = make_world("postgres")
    world.seed(customers=scaled(6), products=2, tasks=scaled(6))
    world.sync_until_settled()
    customer_id, partner_id = _linked_customer(world)
    world.set_faults(FaultPlan(latency_ms=120))  # the pull takes long enough to edit in between
    seen = len(world.fake_requests())

    def edit_while_listing() -> None:
        wait_until(
            lambda: any(r["path"].endswith("/businesspartners") for r in world.fake_requests()[seen:]), seconds=60
        )
        httpx.post(f"{world.url}/_fake/partners/{partner_id}/edit", json={"name": "Muokattu Kesken Oy"}, timeout=30)

    editor = threading.Thread(target=edit_while_listing)
    editor.start()
    world.run()
    editor.join()
    world.set_faults(FaultPlan())
    world.sync_until_settled()
    figures.faults = 1
    figures.notes.append("partner edited while its list was being read")
    assert _name_in_spotilla(world, customer_id) == "Muokattu Kesken Oy"
    world.check_end_state()
    world.assert_quiet_rerun()


@pytest.mark.parametrize("minutes", [-5, 5])
def test_procountor_clock_off_by_minutes_misses_no_partner_change(make_world, figures, minutes):
    skew = timedelta(minutes=minutes)
    world = make_world("postgres", fake=FakeProcountor(clock=lambda: datetime.now(UTC) + skew))
    world.seed(customers=scaled(4), products=2, tasks=scaled(6))
    world.sync_until_settled()
    customer_id, partner_id = _linked_customer(world)
    httpx.post(f"{world.url}/_fake/partners/{partner_id}/edit", json={"name": "Kello Vinossa Oy"}, timeout=30)
    world.sync_until_settled()
    figures.notes.append(f"Procountor's clock {minutes:+d} min")
    assert _name_in_spotilla(world, customer_id) == "Kello Vinossa Oy"
    world.check_end_state()
    world.assert_quiet_rerun()
    world.assert_no_secret_leaked()

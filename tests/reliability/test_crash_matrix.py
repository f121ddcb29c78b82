"""Crash matrix: a real `sync` process SIGKILLed at each named point of a transfer, and at random moments.

Each case restarts the sync until it reports done, then reads both sides: one invoice per eligible task,
no partner or product twice, nothing left in doubt, and a rerun that writes nothing to Procountor.
"""

from __future__ import annotations

import random

import pytest
from crash_points import FLOWS, POINTS
from harness import SCALE, scaled

from spotilla_procountor.adapters.procountor_fake import FaultPlan

pytestmark = [pytest.mark.reliability, pytest.mark.postgres, pytest.mark.loopback, pytest.mark.slow]

KILLS_PER_POINT = 1 if SCALE <= 1 else 3
SEEDS = range(scaled(1) if SCALE <= 1 else max(3, round(SCALE / 5)))


def _population(flow: str, tasks: int, customers: int, products: int) -> int:
    return {"invoice": tasks, "partner": customers, "product": products}[flow]


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("flow", FLOWS)
def test_a_sync_killed_at_a_crash_point_invoices_every_task_once_after_restarts(make_world, figures, flow, point):
    world = make_world("postgres")
    tasks, customers, products = scaled(8), scaled(3), scaled(3)
    world.seed(customers=customers, products=products, tasks=tasks)
    rng = random.Random(f"{flow}:{point}")
    for _ in range(KILLS_PER_POINT):
        hit = rng.randint(1, max(1, _population(flow, tasks, customers, products) // 2))
        code = world.run(crash_at=f"{flow}:{point}:{hit}")
        if code != -9:  # everything of this flow was already done by an earlier kill's restart
            figures.notes.append(f"no {flow}:{point}:{hit} left to reach (exit {code})")
    assert figures.kills >= 1, "the crash point was never reached"
    world.sync_until_settled()
    world.check_end_state()
    world.assert_quiet_rerun()
    if point == "after_request_sent" or SCALE > 1:  # the canary check costs a process; CI samples it
        world.assert_no_secret_leaked()


@pytest.mark.parametrize("database", ["postgres", "sqlite"] if SCALE > 1 else ["sqlite"])
@pytest.mark.parametrize("seed", SEEDS)
def test_a_sync_killed_at_random_moments_invoices_every_task_once_after_restarts(make_world, figures, database, seed):
    world = make_world(database)
    world.seed(customers=scaled(4), products=scaled(3), tasks=scaled(30))
    world.set_faults(FaultPlan(latency_ms=15))  # a run lasts long enough to be cut anywhere
    figures.notes.append(f"seed {seed}, {database}")
    rng = random.Random(seed)
    for _ in range(scaled(2, minimum=2)):
        world.kill_after(rng.uniform(1.0, 3.5))
    world.set_faults(FaultPlan())
    world.sync_until_settled()
    world.check_end_state()
    world.assert_quiet_rerun()
    world.assert_no_secret_leaked()

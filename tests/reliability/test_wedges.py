"""Things that used to wedge a tenant for good: a Spotilla row deleted under a link, a pairing that collides.

Real `sync` processes against the fake on loopback, rows changed with plain SQL as an outside tool would; each
scenario ends with new work invoiced, every run SUCCEEDED and both sides agreeing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from harness import World

from spotilla_procountor.domain.state import EntityKind, RecordState, RunStatus

pytestmark = [pytest.mark.reliability, pytest.mark.loopback, pytest.mark.slow]
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _new_task(world: World, task_id: int, customer_id: int, product_id: int) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    world.sql(
        "INSERT INTO tasks (id, organization_id, customer_id, title, status, order_number, completed_at, created_at,"
        " updated_at) VALUES (:id, :o, :c, 'Huolto', 'COMPLETED', :order, :now, :now, :now)",
        {"id": task_id, "o": world.org, "c": customer_id, "order": f"PO-{task_id}", "now": now},
    )
    world.sql(
        "INSERT INTO task_products (task_id, product_id, quantity) VALUES (:t, :p, '2')",
        {"t": task_id, "p": product_id},
    )
    world.eligible.add(task_id)
    world.figures.items += 1


@pytest.mark.parametrize("database", DATABASES)
def test_a_customer_deleted_in_spotilla_whose_partner_then_changes_wedges_nothing(make_world, figures, database):
    world = make_world(database)
    world.seed(customers=4, products=2, tasks=3)  # customer 1 has no tasks: an outside tool may delete it
    world.sync_until_settled()
    partner_id = world.state.records(world.org, EntityKind.CUSTOMER)[1].procountor_id
    customers_before = _customer_count(world)

    world.sql("DELETE FROM customers WHERE id = 1")
    world.fake.edit_partner(partner_id, {"paymentInfo": {"paymentTermDays": "45"}})  # the accountant's edit
    _new_task(world, 100, customer_id=2, product_id=1)
    for _ in range(2):
        assert world.run() == 0, world.last_output()

    runs = world.state.runs(world.org, limit=3)
    assert [r.status for r in runs[:2]] == [RunStatus.SUCCEEDED] * 2, [r.error for r in runs]
    assert _customer_count(world) == customers_before - 1, "a ghost of the deleted customer came back"
    assert world.state.records(world.org, EntityKind.CUSTOMER)[1].state == RecordState.RETIRED
    world.check_end_state()
    world.assert_quiet_rerun()
    figures.notes.append(f"{database}: deleted customer retired, its partner's edit ignored, new work invoiced")


def _customer_count(world: World) -> int:
    with world.engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT COUNT(*) FROM customers WHERE organization_id = {int(world.org)}").scalar()

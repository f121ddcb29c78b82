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


@pytest.mark.parametrize("database", DATABASES)
def test_a_procountor_that_lost_its_data_gets_partners_and_products_again_and_new_work_is_invoiced(
    make_world, figures, database
):
    world = make_world(database)
    world.seed(customers=3, products=2, tasks=3)
    world.sync_until_settled()
    world.fake.reset()  # the company lost everything: every pairing now points at nothing
    world.eligible.clear()  # what was invoiced before is gone with it; only new work is expected now
    _new_task(world, 100, customer_id=2, product_id=1)
    _new_task(world, 101, customer_id=3, product_id=2)

    codes = [world.run() for _ in range(3)]

    # The first run learns the hard way: Procountor refuses the invoices of partners it lost (the run is PARTIAL and
    # exits 3, it says so), lets the pairings go, and the next run sends partners and invoices again.
    assert codes[0] in (0, 3) and codes[1:] == [0, 0], world.last_output()
    statuses = [r.status for r in world.state.runs(world.org, limit=3)]
    assert statuses[:2] == [RunStatus.SUCCEEDED] * 2 and statuses[2] in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    fake = world.fake_state()
    assert sorted(i["originalInvoiceNumber"] for i in fake["invoices"]) == [
        f"SPOTILLA-{world.org}-T100",
        f"SPOTILLA-{world.org}-T101",
    ]
    assert len({p["invoicingInfo"]["identifier"] for p in fake["partners"]}) == len(fake["partners"])
    assert len({p["code"] for p in fake["products"]}) == len(fake["products"])
    figures.notes.append(f"{database}: after Procountor lost its data, partners and products made again once")

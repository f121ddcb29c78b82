"""The alert state in the database: a mail is claimed by one process only, streaks and admin addresses are kept."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine

from spotilla_procountor.adapters.spotilla_sql.alert_store import SqlAlertStore
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.domain.alerts import AlertState, Condition, FailedStreak, Refusals, RunStreaks

from .conftest import SteppingClock
from .seed import Seed

LEASE = timedelta(minutes=5)
COND = Condition.RUNS_FAILED


def _alerts(engine: Engine, clock: SteppingClock) -> SqlAlertStore:
    return SqlAlertStore(engine, clock=clock)


def test_a_condition_is_claimed_once_and_after_it_was_sent_only_by_one_who_saw_it_sent(
    engine: Engine, clock: SteppingClock, org: int
) -> None:
    store = _alerts(engine, clock)
    token = store.claim(org, COND, AlertState(), LEASE)
    assert token is not None
    assert store.claim(org, COND, AlertState(), LEASE) is None  # claimed: nobody else
    store.sent(org, COND, token, "since:a", clock.now())
    assert store.alert_state(org, COND) == AlertState("since:a", clock.now())
    assert store.claim(org, COND, AlertState(), LEASE) is None  # decided on what it saw before the mail went out
    assert store.claim(org, COND, AlertState("since:a", clock.now()), LEASE) is not None


def test_a_released_claim_leaves_the_condition_unsent_for_the_next_try(
    engine: Engine, clock: SteppingClock, org: int
) -> None:
    store = _alerts(engine, clock)
    token = store.claim(org, COND, AlertState(), LEASE)
    assert token is not None
    store.release(org, COND, token)
    assert store.alert_state(org, COND) == AlertState()
    assert store.claim(org, COND, AlertState(), LEASE) is not None


def test_a_claim_left_by_a_process_that_died_runs_out_with_its_lease(
    engine: Engine, clock: SteppingClock, org: int
) -> None:
    store = _alerts(engine, clock)
    abandoned = store.claim(org, COND, AlertState(), LEASE)
    assert abandoned is not None
    clock.advance(LEASE.total_seconds() - 1)
    assert store.claim(org, COND, AlertState(), LEASE) is None
    clock.advance(2)
    taken = store.claim(org, COND, AlertState(), LEASE)
    assert taken is not None
    store.sent(org, COND, abandoned, "late", clock.now())  # the dead claim's token no longer counts
    assert store.alert_state(org, COND) == AlertState()


def test_of_many_threads_claiming_the_same_condition_at_once_exactly_one_gets_it(
    engine: Engine, clock: SteppingClock, org: int
) -> None:
    stores = [_alerts(engine, clock) for _ in range(8)]
    start, won = threading.Barrier(len(stores)), []

    def claim(store: SqlAlertStore) -> None:
        start.wait()
        token = store.claim(org, COND, AlertState(), LEASE)
        if token is not None:
            won.append(token)

    threads = [threading.Thread(target=claim, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_conditions_and_tenants_are_claimed_apart(engine: Engine, clock: SteppingClock, org: int) -> None:
    store = _alerts(engine, clock)
    assert store.claim(org, COND, AlertState(), LEASE) is not None
    assert store.claim(org, Condition.ITEMS_FAILED, AlertState(), LEASE) is not None
    assert store.claim(org + 1, COND, AlertState(), LEASE) is not None


def test_run_streaks_are_stored_and_read_back(engine: Engine, clock: SteppingClock, org: int) -> None:
    store = _alerts(engine, clock)
    assert store.streaks(org) == RunStreaks()
    streaks = RunStreaks(FailedStreak(3, clock.now(), "Procountor did not answer"), Refusals(2, clock.now(), "fp"))
    store.save_streaks(org, streaks)
    assert store.streaks(org) == streaks
    store.save_streaks(org, RunStreaks())
    assert store.streaks(org) == RunStreaks()


def test_admin_addresses_are_kept_per_tenant_and_a_tenant_never_set_up_is_refused(
    engine: Engine, clock: SteppingClock, seed: Seed
) -> None:
    org = seed.organization()
    SqlStateStore(engine, clock=clock).save_settings(TenantConfig(org))
    store = _alerts(engine, clock)
    assert store.admin_emails() == {}
    assert store.set_admin_emails(org, ["anna@putki.fi", "ville@putki.fi"])
    assert store.admin_emails() == {org: ("anna@putki.fi", "ville@putki.fi")}
    assert not store.set_admin_emails(org + 1, ["x@putki.fi"])
    assert store.set_admin_emails(org, [])
    assert store.admin_emails() == {}


def test_switching_a_tenant_on_again_keeps_its_admin_addresses(
    engine: Engine, clock: SteppingClock, seed: Seed
) -> None:
    org = seed.organization()
    state = SqlStateStore(engine, clock=clock)
    state.save_settings(TenantConfig(org))
    store = _alerts(engine, clock)
    store.set_admin_emails(org, ["anna@putki.fi"])
    state.save_settings(TenantConfig(org, enabled=False, api_key_enc="new"))
    assert store.admin_emails() == {org: ("anna@putki.fi",)}

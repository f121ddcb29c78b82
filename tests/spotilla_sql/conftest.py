"""Every test here runs on SQLite, and on PostgreSQL when one is reachable (see `tests/dbutil.py`)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dbutil import empty_database
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.adapters.spotilla_sql.run_lock import ADVISORY_NAMESPACE
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore

from .seed import Seed


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    with empty_database(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    """An engine on a fully migrated database."""
    upgrade_database(empty_engine)
    return empty_engine


class SteppingClock:
    """A clock that stands still until moved."""

    def __init__(self) -> None:
        self.moment = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def repository(engine: Engine, clock: SteppingClock) -> SqlSpotillaRepository:
    return SqlSpotillaRepository(engine, clock=clock)


@pytest.fixture
def store(engine: Engine, clock: SteppingClock) -> SqlStateStore:
    return SqlStateStore(engine, clock=clock)


@pytest.fixture
def seed(engine: Engine) -> Seed:
    return Seed(engine)


@pytest.fixture
def org() -> int:
    """A tenant id of its own: PostgreSQL advisory locks are shared by every schema of the database."""
    return random.randint(1_000_000, 2**31 - 1)


_LOCK_HOLDERS = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
    "AND classid = :ns AND objid = hashtext(current_schema() || ':' || CAST(:org AS text))::oid"
)


def kill_lock_holder(engine: Engine, org: int) -> int:
    """Terminates the PostgreSQL backend holding this schema's run lock of `org`, as a dropped connection would.

    Returns once the lock is gone (pg_terminate_backend only signals the backend); fails if it does not go.
    """
    with engine.connect() as conn:
        [pid] = conn.execute(_LOCK_HOLDERS, {"ns": ADVISORY_NAMESPACE, "org": org}).scalars().all()
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        deadline = time.monotonic() + 10
        while conn.execute(_LOCK_HOLDERS, {"ns": ADVISORY_NAMESPACE, "org": org}).first() is not None:
            assert time.monotonic() < deadline, f"backend {pid} still holds the run lock of {org}"
            time.sleep(0.02)
    return pid

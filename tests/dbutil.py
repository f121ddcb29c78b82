"""Test databases: a SQLite file, or a throwaway PostgreSQL schema that is dropped afterwards.

PostgreSQL comes from `SPOTILLA_PROCOUNTOR_TEST_POSTGRES_URL` (default: the local trust-auth server).
When it cannot be reached, tests that need it are skipped, except under `CI=true`, where they fail.
Engines are not migrated here; call `upgrade_database(engine)` when a test wants the schema.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from spotilla_procountor.adapters.spotilla_sql.engine import make_engine

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def sqlite_engine(tmp_path: Path, name: str = "spotilla.sqlite3") -> Engine:
    """An engine on a fresh SQLite file under `tmp_path`, built like production's."""
    return make_engine(f"sqlite:///{tmp_path / name}")


def postgres_url() -> URL:
    return make_url(os.environ.get("SPOTILLA_PROCOUNTOR_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


@functools.cache
def postgres_unreachable_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why not (checked once per process)."""
    url = postgres_url()
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        detail = " ".join(str(exc.orig or exc).split())
        return f"PostgreSQL at {url.render_as_string(hide_password=True)} is unreachable: {detail}"
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    """Skips the calling test when PostgreSQL is unreachable; fails it instead when `CI=true`."""
    reason = postgres_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


def _schema_name() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"sp_test_{worker}_{uuid.uuid4().hex[:10]}"


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    """An engine whose connections live in a new, empty schema; the schema is dropped on exit."""
    require_postgres()
    schema = _schema_name()
    admin = make_engine(postgres_url())
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(postgres_url().update_query_dict({"options": f"-c search_path={schema}"}))
        try:
            yield engine
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()

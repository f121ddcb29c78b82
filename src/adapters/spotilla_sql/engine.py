"""Builds the SQLAlchemy engine for SQLite (the embedded default) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 5  # libpq waits forever by default: a host that never answers would hang a start


def make_engine(url: str | URL) -> Engine:
    """An engine for `url`, tuned for the integration's short write transactions.

    SQLite: WAL journal (readers never wait for the writer), foreign keys enforced, a 30 s busy
    timeout, usable from several threads. PostgreSQL: connections checked before use and the
    session clock in UTC. Bound parameters are kept out of error messages, since rows hold
    personal data and encrypted credentials.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return _postgresql_engine(parsed)
    return create_engine(parsed, hide_parameters=True)


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, hide_parameters=True, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _postgresql_engine(url: URL) -> Engine:
    # libpq `options` from the URL (e.g. a search_path) are kept; the time zone is added to them.
    options = " ".join(filter(None, [url.query.get("options"), "-c timezone=UTC"]))
    url = url.update_query_dict({"options": options})
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
    return create_engine(url, hide_parameters=True, pool_pre_ping=True, connect_args=connect_args)


def missing_sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL when it does not exist (SQLite would silently create it, empty); else None.

    In-memory databases (`sqlite://`, `:memory:`, `mode=memory`) have no file and are never missing.
    """
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # a URI filename (uri=true): file:path?mode=…
        path, _, query = database.removeprefix("file:").partition("?")
        if "mode=memory" in query or parsed.query.get("mode") == "memory" or not path:
            return None
        database = path
    path = Path(database)
    return None if path.exists() else path.absolute()

"""Small helpers the SQL adapters share: error translation, id chunking, dialect upserts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from spotilla_procountor.domain.errors import RepositoryError

# Keeps IN lists well under SQLite's and PostgreSQL's bound-parameter limits.
IN_CHUNK = 500


def system_now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def translated_errors(action: str) -> Iterator[None]:
    """Turns database failures into `RepositoryError`, so no SQLAlchemy exception crosses a port."""
    try:
        yield
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip()
        raise RepositoryError(f"Database error while {action}: {type(exc).__name__}: {detail}") from exc
    except ValueError as exc:  # a stored value the domain cannot take (unknown state, bad JSON, ...)
        raise RepositoryError(f"Unreadable data while {action}: {exc}") from exc


def chunked(ids: Iterable[int]) -> list[list[int]]:
    """Distinct ids in sorted chunks of at most `IN_CHUNK`."""
    unique = sorted(set(ids))
    return [unique[i : i + IN_CHUNK] for i in range(0, len(unique), IN_CHUNK)]


def upsert(
    connection: Connection,
    model: type[Any],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    *,
    keep_on_update: Sequence[str] = (),
) -> None:
    """Inserts rows, or overwrites the rows that already have the same `keys` (except `keep_on_update`).

    The statement carries no values: it is built once per shape and the rows travel as parameters, so
    SQLAlchemy compiles it once and a write costs a cached execute, not a compile.
    """
    if not rows:
        return
    stmt = _upsert_statement(connection.dialect.name, model, tuple(rows[0]), tuple(keys), tuple(keep_on_update))
    rows = list(rows)
    for start in range(0, len(rows), IN_CHUNK):
        connection.execute(stmt, rows[start : start + IN_CHUNK])


@lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str, model: type[Any], columns: tuple[str, ...], keys: tuple[str, ...], keep: tuple[str, ...]
) -> Any:
    stmt = dialect_insert(dialect, model)
    update = {c: stmt.excluded[c] for c in columns if c not in keys and c not in keep}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=update)


def dialect_insert(dialect: str, model: type[Any]) -> Any:
    """INSERT with ON CONFLICT support for the named database dialect."""
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RepositoryError(f"Unsupported database {dialect!r}: only SQLite and PostgreSQL are supported")

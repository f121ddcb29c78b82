"""Small helpers the SQL adapters share: error translation, id chunking, dialect upserts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

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
    session: Session,
    model: type[Any],
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    *,
    keep_on_update: Sequence[str] = (),
) -> None:
    """Inserts rows, or overwrites the rows that already have the same `keys` (except `keep_on_update`)."""
    for start in range(0, len(rows), IN_CHUNK):
        stmt = dialect_insert(session.get_bind().dialect.name, model).values(list(rows[start : start + IN_CHUNK]))
        update = {c: stmt.excluded[c] for c in rows[0] if c not in keys and c not in keep_on_update}
        session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=update))


def dialect_insert(dialect: str, model: type[Any]) -> Any:
    """INSERT with ON CONFLICT support for the named database dialect."""
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RepositoryError(f"Unsupported database {dialect!r}: only SQLite and PostgreSQL are supported")

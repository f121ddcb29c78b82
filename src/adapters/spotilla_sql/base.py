"""Declarative base, constraint naming and the UTC timestamp type shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

# Named constraints, so SQLite batch migrations can find them again.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table the integration knows: Spotilla's and its own `procountor_` tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class utc_now(FunctionElement[datetime]):
    """Server-side "now" in UTC, for columns stored as timestamps without time zone."""

    type = DateTime()
    inherit_cache = True


@compiles(utc_now, "postgresql")
def _utc_now_postgresql(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    # now() follows the session time zone; a tool connecting in Helsinki time must still write UTC.
    return "timezone('utc', now())"


@compiles(utc_now)
def _utc_now_default(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"  # UTC on SQLite


class _LenientSqliteDateTime(sqlite.DATETIME):
    """Reads any ISO 8601 text an outside tool may have written ('T' or space, optional offset or 'Z')."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        def process(value: object) -> datetime | None:
            if value is None or isinstance(value, datetime):
                return value
            return datetime.fromisoformat(str(value))

        return process


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC without a zone, read back as a timezone-aware UTC datetime.

    Outside tools may write naive values; they are read as UTC. The integration itself must write
    aware datetimes: a naive one is refused, because nothing says which clock it came from.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_LenientSqliteDateTime())
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing a naive datetime ({value.isoformat()}); pass a timezone-aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

"""Creates or upgrades the database schema with the Alembic migrations shipped in this package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlalchemy.engine import URL

from spotilla_procountor.adapters.spotilla_sql.engine import make_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Spotilla may run Alembic on the same database; its `alembic_version` table is not ours.
VERSION_TABLE = "procountor_alembic_version"


def target_metadata() -> MetaData:
    """Metadata of every table the models describe, Spotilla's and the integration's."""
    from spotilla_procountor.adapters.spotilla_sql import models, state_models  # noqa: F401 - registers tables
    from spotilla_procountor.adapters.spotilla_sql.base import Base

    return Base.metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration built in code (no alembic.ini), optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_database(url_or_engine: str | URL | Engine) -> None:
    """Brings the schema to the newest revision, on SQLite or PostgreSQL.

    Spotilla's tables are created only where they do not exist yet (in production Spotilla owns
    them and they are left as they are); the integration's `procountor_` tables always.
    """
    owns_engine = not isinstance(url_or_engine, Engine)
    engine = make_engine(url_or_engine) if owns_engine else url_or_engine
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
    finally:
        if owns_engine:
            engine.dispose()


@dataclass(frozen=True)
class SchemaRevision:
    """Where the database's schema is, against the newest migration this version ships."""

    current: frozenset[str]
    """Revisions recorded in the database; empty when it was never upgraded."""
    head: frozenset[str]
    known: frozenset[str]
    """Every revision this version ships."""

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_revision(connection: Connection) -> SchemaRevision:
    """Read with plain SQL, not Alembic's migration context, which logs as it starts."""
    current: frozenset[str] = frozenset()
    if inspect(connection).has_table(VERSION_TABLE):
        query = text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a constant, not input
        current = frozenset(connection.execute(query).scalars())
    scripts = ScriptDirectory.from_config(alembic_config())
    known = frozenset(script.revision for script in scripts.walk_revisions())
    return SchemaRevision(current, frozenset(scripts.get_heads()), known)

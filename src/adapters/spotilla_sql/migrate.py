"""Creates or upgrades the database schema with the Alembic migrations shipped in this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, MetaData
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

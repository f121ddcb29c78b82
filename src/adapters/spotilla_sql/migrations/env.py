"""Alembic environment: runs on the connection `migrate.upgrade_database` hands over in `config.attributes`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from spotilla_procountor.adapters.spotilla_sql.migrate import VERSION_TABLE, target_metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Used from a shell with `sqlalchemy.url` set: an engine of its own, disposed afterwards.
    from spotilla_procountor.adapters.spotilla_sql.engine import make_engine

    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()

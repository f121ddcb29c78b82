"""Since when a record is in its state, for the admin page's "held back since".

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-16

`procountor_records.state_since` (and the archive's) is when the record entered its state; `updated_at` moves on
every save, also when an item held back is judged again with the same outcome. Existing rows start from their
`updated_at`, the best guess there is: it may say "since yesterday" of an item held back for a week, never more.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("procountor_records", "procountor_records_archive")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("state_since", sa.DateTime()))
        rows = sa.table(table, sa.column("state_since"), sa.column("updated_at"))
        op.execute(rows.update().values(state_since=rows.c.updated_at))


def downgrade() -> None:
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("state_since")

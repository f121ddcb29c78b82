"""A tenant's Procountor company and start day; an archive for records of a company switched away from.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

`procountor_settings` learns the company the credentials log in to (id, name, business ID) and the day from which
completed tasks are invoiced; both stay NULL for tenants set up earlier (no company bound yet, no start day). It
also keeps the tenant's own sanity limits (NULL: the defaults).
`procountor_records_archive` keeps the records of a company the tenant switched away from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SETTINGS_COLUMNS = (
    ("company_id", sa.BigInteger),
    ("company_name", sa.Text),
    ("company_business_id", sa.Text),
    ("tasks_completed_from", sa.Date),
    ("quantity_ceiling", lambda: sa.Numeric(18, 3)),
    ("invoice_total_ceiling", lambda: sa.Numeric(14, 2)),
    ("completion_clock_skew_minutes", sa.Integer),
)


def _utc_now() -> sa.TextClause:
    if op.get_bind().dialect.name == "postgresql":
        return sa.text("timezone('utc', now())")
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    with op.batch_alter_table("procountor_settings") as batch:
        for name, type_ in _SETTINGS_COLUMNS:
            batch.add_column(sa.Column(name, type_()))
    op.create_table(
        "procountor_records_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.BigInteger()),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("spotilla_id", sa.BigInteger(), nullable=False),
        sa.Column("procountor_id", sa.BigInteger()),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("fingerprint", sa.Text()),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("archived_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.PrimaryKeyConstraint("id", name="pk_procountor_records_archive"),
    )
    op.create_index(
        "ix_procountor_records_archive_organization_id_company_id",
        "procountor_records_archive",
        ["organization_id", "company_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_procountor_records_archive_organization_id_company_id", table_name="procountor_records_archive")
    op.drop_table("procountor_records_archive")
    with op.batch_alter_table("procountor_settings") as batch:
        for name, _type in reversed(_SETTINGS_COLUMNS):
            batch.drop_column(name)

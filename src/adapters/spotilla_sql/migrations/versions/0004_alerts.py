"""Alert mails and the credential back-off: whom to tell, what was told when, and failures in a row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09

`procountor_settings.alert_emails` keeps the organization's admins for alert mails (comma-separated; NULL: none).
`procountor_alerts` keeps, per tenant and condition, what was last mailed and when, and the claim of a process
that is sending it now. `procountor_run_streaks` counts a tenant's FAILED runs in a row and Procountor's refusals
in a row of its stored credentials, for the alerts and the back-off.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("procountor_settings") as batch:
        batch.add_column(sa.Column("alert_emails", sa.Text()))
    op.create_table(
        "procountor_alerts",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text()),
        sa.Column("sent_at", sa.DateTime()),
        sa.Column("claimed_by", sa.Text()),
        sa.Column("claimed_until", sa.DateTime()),
        sa.PrimaryKeyConstraint("organization_id", "condition", name="pk_procountor_alerts"),
    )
    op.create_table(
        "procountor_run_streaks",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("failed_runs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failed_since", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("refusals", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_refused_at", sa.DateTime()),
        sa.Column("credentials_fingerprint", sa.Text()),
        sa.PrimaryKeyConstraint("organization_id", name="pk_procountor_run_streaks"),
    )


def downgrade() -> None:
    op.drop_table("procountor_run_streaks")
    op.drop_table("procountor_alerts")
    with op.batch_alter_table("procountor_settings") as batch:
        batch.drop_column("alert_emails")

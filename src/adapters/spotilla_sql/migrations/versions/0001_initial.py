"""Initial schema: Spotilla's tables where missing, and the integration's own `procountor_` tables.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Spotilla's tables (organizations, customers, products, tasks, task_products) are created only
where the database does not have them yet; in production Spotilla owns them, and a downgrade
never drops them.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INTEGRATION_TABLES = (
    "procountor_run_events",
    "procountor_runs",
    "procountor_locks",
    "procountor_watermarks",
    "procountor_partner_mirror",
    "procountor_transfers",
    "procountor_links",
    "procountor_settings",
)


def _utc_now() -> sa.TextClause:
    if op.get_bind().dialect.name == "postgresql":
        return sa.text("timezone('utc', now())")
    return sa.text("CURRENT_TIMESTAMP")


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
    ]


def _organizations() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
    )


def _customers() -> None:
    text_columns = (
        "name business_id email phone street_address postal_code city country billing_street billing_postal_code "
        "billing_city billing_country billing_email einvoice_address einvoice_operator"
    ).split()
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Text(), server_default="FI" if c == "country" else None) for c in text_columns),
        sa.Column("payment_term_days", sa.Integer()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name="fk_customers_organization_id_organizations"
        ),
    )
    op.create_index("ix_customers_organization_id", "customers", ["organization_id"])


def _products() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text()),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("vat_percent", sa.Numeric(5, 2), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name="fk_products_organization_id_organizations"
        ),
        sa.UniqueConstraint("organization_id", "code", name="uq_products_organization_id_code"),
    )


def _tasks() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer()),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("order_number", sa.Text()),
        sa.Column("completed_at", sa.DateTime()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name="fk_tasks_organization_id_organizations"
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_tasks_customer_id_customers"),
    )
    op.create_index("ix_tasks_organization_id_status", "tasks", ["organization_id", "status"])


def _task_products() -> None:
    op.create_table(
        "task_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(12, 3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_task_products"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_task_products_task_id_tasks"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_task_products_product_id_products"),
    )
    op.create_index("ix_task_products_task_id", "task_products", ["task_id"])


SPOTILLA_TABLES: dict[str, Callable[[], None]] = {
    "organizations": _organizations,
    "customers": _customers,
    "products": _products,
    "tasks": _tasks,
    "task_products": _task_products,
}


def _settings() -> None:
    op.create_table(
        "procountor_settings",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("policy", sa.Text(), nullable=False, server_default="ALL_COMPLETED"),
        sa.Column("environment", sa.Text(), nullable=False, server_default="test"),
        sa.Column("client_id", sa.Text()),
        sa.Column("client_secret_enc", sa.Text()),
        sa.Column("api_key_enc", sa.Text()),
        sa.Column("bank_account", sa.Text()),
        sa.Column("default_payment_term_days", sa.Integer(), nullable=False, server_default="14"),
        *_timestamps(),
        sa.PrimaryKeyConstraint("organization_id", name="pk_procountor_settings"),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name="fk_procountor_settings_organization_id_organizations"
        ),
    )


def _links_and_transfers() -> None:
    op.create_table(
        "procountor_links",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("spotilla_id", sa.BigInteger(), nullable=False),
        sa.Column("procountor_id", sa.BigInteger()),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.PrimaryKeyConstraint("organization_id", "kind", "spotilla_id", name="pk_procountor_links"),
        sa.UniqueConstraint(
            "organization_id", "kind", "procountor_id", name="uq_procountor_links_organization_id_kind_procountor_id"
        ),
    )
    op.create_table(
        "procountor_transfers",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger()),
        sa.Column("reasons", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("fingerprint", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.PrimaryKeyConstraint("organization_id", "task_id", name="pk_procountor_transfers"),
        sa.UniqueConstraint("organization_id", "key", name="uq_procountor_transfers_organization_id_key"),
    )


def _mirror_and_watermarks() -> None:
    op.create_table(
        "procountor_partner_mirror",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("business_id", sa.Text()),
        sa.Column("version", sa.DateTime()),
        sa.PrimaryKeyConstraint("organization_id", "partner_id", name="pk_procountor_partner_mirror"),
    )
    op.create_index(
        "ix_procountor_partner_mirror_organization_id_business_id",
        "procountor_partner_mirror",
        ["organization_id", "business_id"],
    )
    op.create_table(
        "procountor_watermarks",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "name", name="pk_procountor_watermarks"),
    )


def _runs_and_locks() -> None:
    op.create_table(
        "procountor_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("counts", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("error", sa.Text()),
        sa.Column("dry_run", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_procountor_runs"),
    )
    op.create_index("ix_procountor_runs_organization_id_id", "procountor_runs", ["organization_id", "id"])
    op.create_table(
        "procountor_run_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("spotilla_id", sa.BigInteger()),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("procountor_id", sa.BigInteger()),
        sa.Column("reason_code", sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=_utc_now()),
        sa.PrimaryKeyConstraint("id", name="pk_procountor_run_events"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["procountor_runs.id"],
            name="fk_procountor_run_events_run_id_procountor_runs",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_procountor_run_events_run_id", "procountor_run_events", ["run_id"])
    op.create_table(
        "procountor_locks",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_procountor_locks"),
    )


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in SPOTILLA_TABLES.items():
        if name not in existing:
            create()
    _settings()
    _links_and_transfers()
    _mirror_and_watermarks()
    _runs_and_locks()


def downgrade() -> None:
    for name in INTEGRATION_TABLES:
        op.drop_table(name)

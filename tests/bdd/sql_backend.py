"""The scenarios' Spotilla in a real SQLite database: rows written with plain SQL, read by the SQL adapter."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from spotilla_procountor.adapters.spotilla_sql.engine import make_engine
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.domain.model import Customer, IntegrationSettings, Product, Task

from .procountor_side import BANK_ACCOUNT

CUSTOMER_COLUMNS = (
    "id organization_id name business_id email phone street_address postal_code city country billing_street "
    "billing_postal_code billing_city billing_country billing_email einvoice_address einvoice_operator "
    "payment_term_days"
).split()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _utc_text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else None


class SqliteBackend:
    """Spotilla's tables and the integration's state in one SQLite file, as in the embedded default."""

    def __init__(self, folder: Path) -> None:
        self.engine = make_engine(f"sqlite:///{folder / 'spotilla.sqlite3'}")
        upgrade_database(self.engine)
        self.spotilla = SqlSpotillaRepository(self.engine)
        self.state = SqlStateStore(self.engine)

    def _run(self, sql: str, rows: list[dict] | dict) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), rows)

    def switch_on(self, settings: IntegrationSettings) -> None:
        org = settings.organization_id
        self._run(
            "INSERT OR IGNORE INTO organizations (id, name) VALUES (:id, :name)", {"id": org, "name": f"Org {org}"}
        )
        self.state.save_settings(
            TenantConfig(
                organization_id=org,
                enabled=settings.enabled,
                policy=settings.policy,
                default_payment_term_days=settings.default_payment_term_days,
                bank_account=BANK_ACCOUNT if settings.has_bank_account else None,
                tasks_completed_from=settings.tasks_completed_from,
            )
        )

    def put_customer(self, customer: Customer) -> None:
        values = {c: getattr(customer, c) for c in CUSTOMER_COLUMNS} | {"now": _now()}
        columns = ", ".join(CUSTOMER_COLUMNS)
        params = ", ".join(f":{c}" for c in CUSTOMER_COLUMNS)
        self._run(
            f"INSERT OR REPLACE INTO customers ({columns}, created_at, updated_at) VALUES ({params}, :now, :now)",
            values,
        )

    def put_product(self, product: Product) -> None:
        self._run(
            "INSERT OR REPLACE INTO products (id, organization_id, code, name, unit, unit_price, vat_percent, "
            "created_at, updated_at) VALUES (:id, :org, :code, :name, :unit, :price, :vat, :now, :now)",
            {
                "id": product.id,
                "org": product.organization_id,
                "code": product.code,
                "name": product.name,
                "unit": product.unit,
                "price": str(product.unit_price),
                "vat": str(product.vat_percent),
                "now": _now(),
            },
        )

    def put_task(self, task: Task) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM task_products WHERE task_id = :id"), {"id": task.id})
            conn.execute(
                text(
                    "INSERT OR REPLACE INTO tasks (id, organization_id, customer_id, title, description, status, "
                    "order_number, completed_at, created_at, updated_at) VALUES (:id, :org, :customer, :title, "
                    ":description, :status, :order_number, :completed_at, :now, :now)"
                ),
                {
                    "id": task.id,
                    "org": task.organization_id,
                    "customer": task.customer_id,
                    "title": task.title,
                    "description": task.description,
                    "status": str(task.status),
                    "order_number": task.order_number,
                    "completed_at": _utc_text(task.completed_at),
                    "now": _now(),
                },
            )
            for used in task.products:
                conn.execute(
                    text("INSERT INTO task_products (id, task_id, product_id, quantity) VALUES (:id, :t, :p, :q)"),
                    {"id": used.id, "t": task.id, "p": used.product_id, "q": str(used.quantity)},
                )

    def _delete_leaving_references(self, table: str, row_id: int) -> None:
        # Spotilla's own tools can leave tasks pointing at a deleted row; the integration must cope.
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row_id})
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")

    def remove_customer(self, customer_id: int) -> None:
        self._delete_leaving_references("customers", customer_id)

    def remove_product(self, product_id: int) -> None:
        self._delete_leaving_references("products", product_id)

    def close(self) -> None:
        self.engine.dispose()

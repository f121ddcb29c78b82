"""Rows put into Spotilla's tables with plain SQL, the way outside tools do (optional columns left out)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text


class Seed:
    """Inserts rows with hand-written INSERT statements naming only the columns given."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(self, table: str, **columns: Any) -> int:
        names = ", ".join(columns)
        params = ", ".join(f":{name}" for name in columns)
        with self.engine.begin() as conn:
            return conn.execute(
                text(f"INSERT INTO {table} ({names}) VALUES ({params}) RETURNING id"), columns
            ).scalar_one()

    def insert_many(self, table: str, rows: list[dict[str, Any]]) -> None:
        names = ", ".join(rows[0])
        params = ", ".join(f":{name}" for name in rows[0])
        with self.engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({params})"), rows)

    def row(self, table: str, row_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return dict(conn.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).mappings().one())

    def organization(self, name: str = "Putkiliike Virtanen Oy") -> int:
        return self.insert("organizations", name=name)

    def customer(self, organization_id: int, **columns: Any) -> int:
        return self.insert("customers", organization_id=organization_id, **columns)

    def product(
        self,
        organization_id: int,
        name: str = "Asennustyö",
        unit: str = "h",
        price: str = "65.00",
        vat: str = "25.5",
        **columns: Any,
    ) -> int:
        return self.insert(
            "products",
            organization_id=organization_id,
            name=name,
            unit=unit,
            unit_price=price,
            vat_percent=vat,
            **columns,
        )

    def task(self, organization_id: int, status: str = "COMPLETED", title: str = "Vesivuoto", **columns: Any) -> int:
        return self.insert("tasks", organization_id=organization_id, title=title, status=status, **columns)

    def task_product(self, task_id: int, product_id: int, quantity: str = "1") -> int:
        return self.insert("task_products", task_id=task_id, product_id=product_id, quantity=quantity)

    def transfer(self, organization_id: int, task_id: int, state: str) -> None:
        """A task's record as the integration would have left it (a transfer's old CREATED is LINKED now)."""
        self.insert_many(
            "procountor_records",
            [
                {
                    "organization_id": organization_id,
                    "kind": "TASK",
                    "spotilla_id": task_id,
                    "state": "LINKED" if state == "CREATED" else state,
                }
            ],
        )


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """Collects the SQL statements the engine sends to the database inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)

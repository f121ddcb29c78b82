"""Where Spotilla and the integration's own state live in a scenario: the interface, and the in-memory backend.

A backend stores Spotilla's rows the way Spotilla itself would write them and exposes the two ports the
integration uses. A SQL-backed backend implements the same few methods over its tables.
"""

from __future__ import annotations

from typing import Protocol

from spotilla_procountor.adapters.memory import InMemorySpotilla, InMemoryStateStore
from spotilla_procountor.domain.model import Customer, IntegrationSettings, Product, Task
from spotilla_procountor.domain.ports import SpotillaRepository, StateStore


class SpotillaBackend(Protocol):
    """What a Spotilla backend offers the scenarios: row writes (as Spotilla itself would do) and the ports."""

    spotilla: SpotillaRepository
    state: StateStore

    def switch_on(self, settings: IntegrationSettings) -> None:
        """Creates the organization (if needed) and switches the integration on with these settings."""
        ...

    def put_customer(self, customer: Customer) -> None:
        """Inserts the customer row with its id, or overwrites every column of an existing one."""
        ...

    def put_product(self, product: Product) -> None:
        """Inserts or overwrites a product row."""
        ...

    def put_task(self, task: Task) -> None:
        """Inserts or overwrites a task row and replaces its task products with `task.products`."""
        ...

    def remove_customer(self, customer_id: int) -> None:
        """Deletes a customer row (tasks keep pointing at it)."""
        ...

    def remove_product(self, product_id: int) -> None:
        """Deletes a product row (task products keep pointing at it)."""
        ...

    def close(self) -> None: ...


class MemoryBackend:
    """Spotilla and the integration's state held in dictionaries."""

    def __init__(self) -> None:
        self.state = InMemoryStateStore()
        self.spotilla = InMemorySpotilla(self.state)

    def switch_on(self, settings: IntegrationSettings) -> None:
        self.spotilla.tenant_settings[settings.organization_id] = settings

    def put_customer(self, customer: Customer) -> None:
        self.spotilla.customer_rows[customer.id] = customer

    def put_product(self, product: Product) -> None:
        self.spotilla.product_rows[product.id] = product

    def put_task(self, task: Task) -> None:
        self.spotilla.task_rows[task.id] = task

    def remove_customer(self, customer_id: int) -> None:
        del self.spotilla.customer_rows[customer_id]

    def remove_product(self, product_id: int) -> None:
        del self.spotilla.product_rows[product_id]

    def close(self) -> None:
        return None

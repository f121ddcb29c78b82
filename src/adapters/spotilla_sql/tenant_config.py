"""`TenantConfig`: one `procountor_settings` row as plain data, with what the app layer needs to manage it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from spotilla_procountor.adapters.spotilla_sql._sql import upsert
from spotilla_procountor.adapters.spotilla_sql.state_models import SettingsRow
from spotilla_procountor.domain.model import TransferPolicy


@dataclass(frozen=True, slots=True)
class TenantConfig:
    """Everything stored about a tenant's connection to Procountor.

    The `_enc` fields are ciphertext produced by the app layer; this package stores them as-is.
    """

    organization_id: int
    enabled: bool = True
    policy: TransferPolicy = TransferPolicy.ALL_COMPLETED
    environment: str = "test"
    """`test`, `production`, or the base URL of a Procountor API."""
    client_id: str | None = None
    client_secret_enc: str | None = field(default=None, repr=False)
    api_key_enc: str | None = field(default=None, repr=False)
    bank_account: str | None = None
    default_payment_term_days: int = 14
    created_at: datetime | None = None
    updated_at: datetime | None = None
    company_id: int | None = None
    """The Procountor company the credentials log in to; None until it is learned (tenants set up earlier)."""
    company_name: str | None = None
    company_business_id: str | None = None
    tasks_completed_from: date | None = None
    """Tasks completed (Helsinki day) before it are never invoiced; None: no limit."""
    quantity_ceiling: Decimal | None = None
    """The tenant's own sanity limits; None: the defaults of `IntegrationSettings`."""
    invoice_total_ceiling: Decimal | None = None
    completion_clock_skew_minutes: int | None = None


_STORED = (
    "enabled",
    "policy",
    "environment",
    "client_id",
    "client_secret_enc",
    "api_key_enc",
    "bank_account",
    "default_payment_term_days",
    "company_id",
    "company_name",
    "company_business_id",
    "tasks_completed_from",
    "quantity_ceiling",
    "invoice_total_ceiling",
    "completion_clock_skew_minutes",
)


def read_tenant_configs(session: Session, organization_id: int | None = None) -> list[TenantConfig]:
    query = select(SettingsRow).order_by(SettingsRow.organization_id)
    if organization_id is not None:
        query = query.where(SettingsRow.organization_id == organization_id)
    return [_config(row) for row in session.scalars(query)]


def write_tenant_config(session: Session, config: TenantConfig, now: datetime) -> None:
    """Inserts or overwrites the row; `created_at` of an existing row is kept, `updated_at` is `now`."""
    row = {name: getattr(config, name) for name in _STORED}
    row["policy"] = TransferPolicy(config.policy).value
    row |= {"organization_id": config.organization_id, "created_at": config.created_at or now, "updated_at": now}
    upsert(session.connection(), SettingsRow, [row], keys=["organization_id"], keep_on_update=["created_at"])


def replace_secrets(
    session: Session, organization_id: int, old: tuple[str | None, str | None], new: tuple[str | None, str | None]
) -> bool:
    """Sets (client_secret_enc, api_key_enc) to `new` only if they still are `old`; whether it did.

    For re-encrypting under another key: a tenant switched on again meanwhile keeps its new credentials.
    """
    same = (
        SettingsRow.client_secret_enc.is_not_distinct_from(old[0]),
        SettingsRow.api_key_enc.is_not_distinct_from(old[1]),
    )
    statement = (
        update(SettingsRow)
        .where(SettingsRow.organization_id == organization_id, *same)
        .values(client_secret_enc=new[0], api_key_enc=new[1])
    )
    return session.execute(statement).rowcount == 1


def _config(row: SettingsRow) -> TenantConfig:
    return TenantConfig(
        organization_id=row.organization_id,
        enabled=bool(row.enabled),
        policy=TransferPolicy(row.policy),
        environment=row.environment,
        client_id=row.client_id,
        client_secret_enc=row.client_secret_enc,
        api_key_enc=row.api_key_enc,
        bank_account=row.bank_account,
        default_payment_term_days=row.default_payment_term_days,
        created_at=row.created_at,
        updated_at=row.updated_at,
        company_id=row.company_id,
        company_name=row.company_name,
        company_business_id=row.company_business_id,
        tasks_completed_from=row.tasks_completed_from,
        quantity_ceiling=row.quantity_ceiling,
        invoice_total_ceiling=row.invoice_total_ceiling,
        completion_clock_skew_minutes=row.completion_clock_skew_minutes,
    )

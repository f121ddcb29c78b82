"""The integration's own tables, all prefixed `procountor_`; Spotilla's tables never get extra columns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, Numeric, Text, false, text, true
from sqlalchemy.orm import Mapped, mapped_column

from spotilla_procountor.adapters.spotilla_sql.base import Base, UtcDateTime, utc_now


class SettingsRow(Base):
    """A tenant's integration settings; the credential columns hold text the app layer has encrypted."""

    __tablename__ = "procountor_settings"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    policy: Mapped[str] = mapped_column(Text, nullable=False, server_default="ALL_COMPLETED")
    environment: Mapped[str] = mapped_column(Text, nullable=False, server_default="test")
    """`test`, `production`, or the base URL of a Procountor API."""
    client_id: Mapped[str | None] = mapped_column(Text)
    client_secret_enc: Mapped[str | None] = mapped_column(Text)
    api_key_enc: Mapped[str | None] = mapped_column(Text)
    bank_account: Mapped[str | None] = mapped_column(Text)
    default_payment_term_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="14")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, server_default=utc_now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, server_default=utc_now())
    company_id: Mapped[int | None] = mapped_column(BigInteger)
    """The Procountor company the credentials log in to (`GET /company`); the tenant is bound to it."""
    company_name: Mapped[str | None] = mapped_column(Text)
    company_business_id: Mapped[str | None] = mapped_column(Text)
    tasks_completed_from: Mapped[date | None] = mapped_column(Date)
    """Tasks completed (Helsinki day) before it are never invoiced; NULL: no limit (tenants set up before 0003)."""
    quantity_ceiling: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    """Sanity limits of the tenant's own; NULL: the defaults (see `IntegrationSettings`)."""
    invoice_total_ceiling: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    completion_clock_skew_minutes: Mapped[int | None] = mapped_column(Integer)
    alert_emails: Mapped[str | None] = mapped_column(Text)
    """The organization's admins for alert mails, comma-separated; written only by `tenants notify`."""


class RecordRow(Base):
    """A Spotilla product, customer or task and its Procountor counterpart; one state machine for all kinds.

    Unique in both directions: a Procountor object is paired with one Spotilla item of its kind (retired records
    aside).
    """

    __tablename__ = "procountor_records"
    __table_args__ = (
        # A retired record (its Spotilla item deleted) keeps its Procountor id as history without holding it.
        Index(
            "uq_procountor_records_organization_id_kind_procountor_id",
            "organization_id",
            "kind",
            "procountor_id",
            unique=True,
            sqlite_where=text("state <> 'RETIRED'"),
            postgresql_where=text("state <> 'RETIRED'"),
        ),
        Index(None, "organization_id", "kind", "state"),
    )

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    spotilla_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    procountor_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text, nullable=False)
    reasons: Mapped[str] = mapped_column(Text, nullable=False, server_default="[]")
    """JSON list of `{"code": …, "params": {…}}`; sentences are rendered from them when shown."""
    fingerprint: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    claim_epoch: Mapped[int | None] = mapped_column(BigInteger)
    """The run lock's epoch under which the last create was claimed."""
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, server_default=utc_now())
    state_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the record entered its state; `updated_at` moves on every save, this only when the state changes."""


class FenceRow(Base):
    """A tenant's run-lock epoch: raised each time a run takes the lock; a claim must carry the newest."""

    __tablename__ = "procountor_fences"

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, nullable=False)
    holder: Mapped[str] = mapped_column(Text, nullable=False)
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, server_default=utc_now())


class PartnerMirrorRow(Base):
    """A Procountor business partner as last seen, to match customers without asking Procountor again."""

    __tablename__ = "procountor_partner_mirror"
    __table_args__ = (Index(None, "organization_id", "business_id"),)

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    business_id: Mapped[str | None] = mapped_column(Text)
    version: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WatermarkRow(Base):
    """How far a pull from Procountor has got, per tenant and stream (e.g. `partners`)."""

    __tablename__ = "procountor_watermarks"

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class RunRow(Base):
    """One sync run of one tenant."""

    __tablename__ = "procountor_runs"
    __table_args__ = (Index(None, "organization_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    counts: Mapped[str] = mapped_column(Text, nullable=False, server_default="{}")
    """JSON object of counter name → number."""
    error: Mapped[str | None] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


class RunEventRow(Base):
    """One item's outcome in a run."""

    __tablename__ = "procountor_run_events"
    __table_args__ = (Index(None, "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("procountor_runs.id", ondelete="CASCADE"), nullable=False)
    flow: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    spotilla_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    procountor_id: Mapped[int | None] = mapped_column(BigInteger)
    reason_code: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, server_default=utc_now())


class LockRow(Base):
    """A lease on a named lock (SQLite run locking); whoever holds an unexpired lease owns it."""

    __tablename__ = "procountor_locks"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    holder: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class RecordArchiveRow(Base):
    """Records of a Procountor company the tenant switched away from, kept as history and never used again."""

    __tablename__ = "procountor_records_archive"
    __table_args__ = (Index(None, "organization_id", "company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(Integer, nullable=False)
    company_id: Mapped[int | None] = mapped_column(BigInteger)
    """The company the records belonged to; NULL for a tenant set up before companies were stored."""
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    spotilla_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    procountor_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text, nullable=False)
    reasons: Mapped[str] = mapped_column(Text, nullable=False, server_default="[]")
    fingerprint: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    state_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    archived_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, server_default=utc_now())


class AlertRow(Base):
    """What was last mailed for one condition of one tenant, and who is sending it right now (a claim with a lease).

    A process claims the row before it sends (only while the row still says what it decided on), so two
    processes never both send; a claim left by a process that died runs out with its lease.
    """

    __tablename__ = "procountor_alerts"

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    condition: Mapped[str] = mapped_column(Text, primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(Text)
    """What the last mail was about (the refused credentials' fingerprint, a run streak, the items listed)."""
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RunStreakRow(Base):
    """A tenant's runs in a row: how many FAILED since when, and Procountor's refusals of its stored credentials.

    Kept apart from the run log, which does not hold every FAILED outcome (credentials that cannot be decrypted
    fail before a run is recorded); the alerts and the credential back-off are decided on it.
    """

    __tablename__ = "procountor_run_streaks"

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    failed_runs: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    failed_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    refusals: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_refused_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    credentials_fingerprint: Mapped[str | None] = mapped_column(Text)
    """A digest of the client id and the encrypted secrets that were refused (never of a secret in clear)."""

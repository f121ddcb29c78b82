"""Service settings from environment variables (prefix SPOTILLA_PROCOUNTOR_) and an optional .env file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROCOUNTOR_HOSTS = {
    "test": "https://pts-api.procountor.com",
    "production": "https://api.procountor.com",
}


class Settings(BaseSettings):
    """Everything an operator can set; read once, in the composition root."""

    model_config = SettingsConfigDict(env_prefix="SPOTILLA_PROCOUNTOR_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///spotilla-procountor.sqlite3",
        description="SQLAlchemy URL of Spotilla's database; the integration keeps its own tables there too.",
    )
    procountor_adapter: Literal["http", "fake"] = Field(
        "http", description="`http` talks to Procountor; `fake` uses an in-process fake Procountor (demos, tests)."
    )
    procountor_api_prefix: str = Field(
        "/api", description="API version path: /api, /latest/api, /supported/api, /vYYMM/api."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Fernet key that encrypts tenants' Procountor credentials at rest (`spotilla-procountor keygen`).",
    )
    interval_minutes: float = Field(30, gt=0, description="Minutes between two cycles of a tenant.")
    tenant_concurrency: int = Field(4, ge=1, description="Tenants synced at the same time.")
    rate_limit_per_s: int = Field(20, ge=1, description="Requests per second per Procountor API client.")
    rate_limit_margin: float = Field(
        0.05, ge=0, le=1, description="Fraction the limiter stays under that rate, for requests bunched up on the way."
    )
    max_in_flight: int = Field(8, ge=1, description="Requests to Procountor under way at once per tenant run.")
    sync_workers: int = Field(8, ge=1, description="Creates under way at once within one tenant's cycle.")
    request_timeout_s: float = Field(30, gt=0, description="Seconds before a Procountor request times out.")
    partner_pull_overlap_s: float = Field(
        120, ge=0, description="Seconds of partner changes re-read before the newest one seen (Procountor's clock)."
    )
    lock_ttl_s: float = Field(900, gt=0, description="Seconds a SQLite run lease lasts without renewal.")
    claim_grace_s: float = Field(
        120,
        ge=0,
        description="Seconds a create claimed by an earlier run (one that lost its lock or died) is left alone "
        "before it is looked up in Procountor: its request may still be on its way. A claimed create starts sending "
        "only within a quarter of it (then connect, write and read each take at most REQUEST_TIMEOUT_S), so it "
        "must be at least four times REQUEST_TIMEOUT_S (0 turns the grace off: tests only).",
    )

    @model_validator(mode="after")
    def _grace_outlasts_a_create(self) -> Settings:
        if 0 < self.claim_grace_s < 4 * self.request_timeout_s:
            raise ValueError(
                f"CLAIM_GRACE_S ({self.claim_grace_s:g}) must be at least four times REQUEST_TIMEOUT_S "
                f"({self.request_timeout_s:g}): a create of a run that lost its lock may be on its way that long"
            )
        return self

    http_host: str = Field(
        "127.0.0.1", description="Address `run` serves /healthz, /readyz and /metrics on (0.0.0.0: every interface)."
    )
    http_port: int = Field(8080, ge=0, le=65535, description="Port of that server; 0 takes any free port (logged).")

    log_format: Literal["text", "json"] = Field(
        "text", description="`text` (key=value) for people, `json` for machines."
    )
    log_level: str = Field("INFO", description="Python logging level.")

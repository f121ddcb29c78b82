"""Service settings from environment variables (prefix SPOTILLA_PROCOUNTOR_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from spotilla_procountor.app.secret_files import read_secret_file

ENV_PREFIX = "SPOTILLA_PROCOUNTOR_"
PROCOUNTOR_HOSTS = {
    "test": "https://pts-api.procountor.com",
    "production": "https://api.procountor.com",
}


SECRETS_FROM_FILES = ("secret_key", "client_id", "client_secret")


class Settings(BaseSettings):
    """Everything an operator can set; read once, in the composition root."""

    # hide_input_in_errors: a validation error would otherwise quote every value read, secrets included.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", hide_input_in_errors=True)

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
    # -- secrets: each also from a file (`…_FILE`, for container secrets), never both -------------------------------
    secret_key: SecretStr | None = Field(
        None,
        description="Fernet key(s) that encrypt tenants' Procountor credentials at rest (`spotilla-procountor "
        "keygen`); several, comma-separated and newest first, while a key is being replaced (`tenants rotate-key`).",
    )
    secret_key_file: Path | None = Field(None, description="A file holding SECRET_KEY.")
    client_id: str | None = Field(
        None, description="The integration's own Procountor API client id: one for every tenant (the integrator's)."
    )
    client_id_file: Path | None = Field(None, description="A file holding CLIENT_ID.")
    client_secret: SecretStr | None = Field(None, description="The secret of that API client.")
    client_secret_file: Path | None = Field(None, description="A file holding CLIENT_SECRET.")

    @field_validator("secret_key", "client_id", "client_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _secrets_from_files(self) -> Settings:
        """`X_FILE` fills `X` with the file's text (less one trailing newline); setting both is a mistake."""
        for name in SECRETS_FROM_FILES:
            path = getattr(self, f"{name}_file")
            if path is None:
                continue
            setting = f"{ENV_PREFIX}{name.upper()}"
            if getattr(self, name) is not None:
                raise ValueError(f"both {setting} and {setting}_FILE are set; set only one of them")
            value = read_secret_file(path, what=f"{setting}_FILE")
            setattr(self, name, value if name == "client_id" else SecretStr(value))
        return self

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

    log_format: Literal["text", "json"] = Field(
        "text", description="`text` (key=value) for people, `json` for machines."
    )
    log_level: str = Field("INFO", description="Python logging level.")


def settings_error(exc: ValidationError) -> str:
    """One line naming each wrong setting and what is wrong with it (never a value: it may be a secret)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        names = [f"{ENV_PREFIX}{str(part).upper()}" for part in error["loc"]]
        problems.append(f"{'.'.join(names)}: {message}" if names else message)
    return "; ".join(problems)

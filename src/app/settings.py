"""Service settings from environment variables (prefix SPOTILLA_PROCOUNTOR_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from spotilla_procountor.app.email_addresses import normalized_addresses
from spotilla_procountor.app.secret_files import read_secret_file

ENV_PREFIX = "SPOTILLA_PROCOUNTOR_"
PROCOUNTOR_HOSTS = {
    "test": "https://pts-api.procountor.com",
    "production": "https://api.procountor.com",
}


SECRETS_FROM_FILES = ("secret_key", "client_id", "client_secret", "web_jwt_secret")


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
    procountor_test_url: str | None = Field(
        None,
        description="Base URL that tenants of environment `test` use instead of Procountor's test environment "
        "(a fake Procountor served with `spotilla-procountor fake-procountor`, for demos and tests).",
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
    web_jwt_secret: SecretStr | None = Field(
        None,
        description="The secret Spotilla signs its users' sign-in tokens with (HS256, at least 32 bytes); unset: "
        "the admin pages and the JSON API answer 503, /healthz, /readyz and /metrics still serve.",
    )
    web_jwt_secret_file: Path | None = Field(None, description="A file holding WEB_JWT_SECRET.")

    @field_validator("procountor_test_url")
    @classmethod
    def _a_url(cls, value: str | None) -> str | None:
        """An https URL, or plain http to this machine (a fake Procountor): credentials travel to it."""
        if value is not None:
            from spotilla_procountor.adapters.procountor_http.transport import require_safe_url

            if not value.startswith(("http://", "https://")):
                raise ValueError("must be an http:// or https:// URL")
            require_safe_url(value, in_process=False)
        return value

    @field_validator("secret_key", "client_id", "client_secret", "web_jwt_secret", mode="before")
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

    http_host: str = Field(
        "127.0.0.1", description="Address `run` serves /healthz, /readyz and /metrics on (0.0.0.0: every interface)."
    )
    http_port: int = Field(8080, ge=0, le=65535, description="Port of that server; 0 takes any free port (logged).")
    web_token_max_minutes: float = Field(
        60, gt=0, description="The longest a sign-in token from Spotilla may stay valid; longer-lived ones are refused."
    )
    web_session_hours: float = Field(8, gt=0, description="How long a page session opened from Spotilla lasts.")

    log_format: Literal["text", "json"] = Field(
        "text", description="`text` (key=value) for people, `json` for machines."
    )
    log_level: str = Field("INFO", description="Python logging level.")

    # -- alert mails and the credential back-off (README: "Alert mails") --
    smtp_host: str | None = Field(None, description="Mail server for alert mails; unset: each alert is logged instead.")
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="Its port; default 465 with SMTP_TLS=ssl, 587 with starttls, 25 with none."
    )
    smtp_tls: Literal["none", "starttls", "ssl"] = Field(
        "starttls", description="`starttls` (upgrade after connecting), `ssl` (TLS from the start) or `none`."
    )
    smtp_user: str | None = Field(None, description="User name to log in to the mail server with (needs TLS).")
    smtp_password: SecretStr | None = Field(None, description="Its password.")
    smtp_from: str | None = Field(
        None, validate_default=True, description="The alerts' From address; required with SMTP_HOST."
    )
    smtp_timeout_s: float = Field(10, gt=0, description="Seconds before the mail server is given up for this run.")
    alert_operators: str = Field(
        "", description="Operators' addresses, comma-separated: credentials refused, runs failed, admins' copies."
    )
    alert_operators_get_all: bool = Field(False, description="Operators get every alert, the admins' ones too.")
    alert_failed_runs: int = Field(3, ge=1, description="FAILED runs in a row that are mailed to the operators.")
    alert_held_back_days: float = Field(7, gt=0, description="Days an item may be held back before the weekly mail.")
    credential_backoff_after: int = Field(
        2, ge=1, description="Refusals of a tenant's credentials in a row after which it backs off and is mailed."
    )
    credential_backoff_minutes: float = Field(60, gt=0, description="Minutes between tries of a backed-off tenant.")

    # Field validators, not a model validator: their errors show only the one value, never the password beside it.
    @field_validator("alert_operators")
    @classmethod
    def _operators(cls, value: str) -> str:
        return ", ".join(normalized_addresses([value]))

    @field_validator("smtp_user")
    @classmethod
    def _login_needs_tls(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and info.data.get("smtp_tls") == "none":
            raise ValueError("SMTP_USER needs SMTP_TLS starttls or ssl: the password would cross the network in clear")
        return value

    @field_validator("smtp_from")
    @classmethod
    def _sender(cls, value: str | None, info: ValidationInfo) -> str | None:
        addresses = normalized_addresses([value or ""])
        if len(addresses) > 1:
            raise ValueError("SMTP_FROM is one address, the one alert mails are sent from")
        if not addresses and info.data.get("smtp_host"):
            raise ValueError("SMTP_FROM is required with SMTP_HOST: the address alert mails are sent from")
        return addresses[0] if addresses else None

    @property
    def operator_addresses(self) -> tuple[str, ...]:
        return tuple(a for a in self.alert_operators.split(", ") if a)


def settings_error(exc: ValidationError) -> str:
    """One line naming each wrong setting and what is wrong with it (never a value: it may be a secret)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        names = [f"{ENV_PREFIX}{str(part).upper()}" for part in error["loc"]]
        problems.append(f"{'.'.join(names)}: {message}" if names else message)
    return "; ".join(problems)

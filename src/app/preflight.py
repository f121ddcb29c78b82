"""What must hold before the service starts: each problem found is one sentence an operator can act on.

`run` refuses to start on any of them; `check` reports them; a health check can ask the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from spotilla_procountor.adapters.spotilla_sql.engine import missing_sqlite_file
from spotilla_procountor.adapters.spotilla_sql.migrate import SchemaRevision, schema_revision
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.credentials import (
    CredentialCipher,
    CredentialsUnreadable,
    InvalidSecretKey,
    MissingSecretKey,
)
from spotilla_procountor.app.service import NoApiClient, TenantNotConfigured, TenantService
from spotilla_procountor.domain.errors import IntegrationError

UPGRADE = "spotilla-procountor db upgrade"


class ProblemKind(StrEnum):
    DATABASE_MISSING = "DATABASE_MISSING"
    DATABASE_UNREACHABLE = "DATABASE_UNREACHABLE"
    SCHEMA_NOT_CURRENT = "SCHEMA_NOT_CURRENT"
    SECRET_KEY = "SECRET_KEY"  # noqa: S105 - a name, not a key
    CREDENTIALS_UNREADABLE = "CREDENTIALS_UNREADABLE"
    CREDENTIALS_MISSING = "CREDENTIALS_MISSING"
    NO_API_CLIENT = "NO_API_CLIENT"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        return self.message


def preflight(*, engine: Engine, cipher: CredentialCipher, tenants: TenantService) -> list[Problem]:
    """Database reachable and its schema current; the secret key usable; every enabled tenant's credentials
    readable and a Procountor API client for each. Nothing is written, and a missing SQLite file is not created."""
    database = database_problem(engine)
    if database is not None:
        return [database]  # nothing else can be looked at
    key = _key_problem(cipher)
    if key is not None:
        return [key]  # no tenant's credentials can be read without it
    try:
        enabled = [config for config in tenants.list() if config.enabled]
    except IntegrationError as exc:
        return [Problem(ProblemKind.DATABASE_UNREACHABLE, f"the tenants cannot be read: {exc}")]
    return _credential_problems(tenants, enabled)


def database_problem(engine: Engine) -> Problem | None:
    """A missing SQLite file, a database that does not answer, or a schema that is not the one this version needs."""
    where = engine.url.set(query={}).render_as_string(hide_password=True)  # the options we add are noise here
    missing = missing_sqlite_file(engine.url)
    if missing is not None:
        return Problem(ProblemKind.DATABASE_MISSING, missing_database_message(missing))
    try:
        with engine.connect() as connection:
            revision = schema_revision(connection)
    except SQLAlchemyError as exc:
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return Problem(ProblemKind.DATABASE_UNREACHABLE, f"the database {where} cannot be reached: {detail}")
    return _schema_problem(where, revision)


def missing_database_message(path: object) -> str:
    return (
        f"the database file {path} does not exist; create it with `{UPGRADE}`, "
        "or correct SPOTILLA_PROCOUNTOR_DATABASE_URL if it is elsewhere"
    )


def _schema_problem(where: str, revision: SchemaRevision) -> Problem | None:
    if revision.up_to_date:
        return None
    if not revision.current:
        message = f"the database {where} has none of the integration's tables; create them with `{UPGRADE}`"
    elif revision.current <= revision.known:
        message = (
            f"the database {where} has an older schema ({_revisions(revision.current)}; this version needs "
            f"{_revisions(revision.head)}); upgrade it with `{UPGRADE}`"
        )
    else:
        message = (
            f"the database {where} has schema {_revisions(revision.current)}, which this version does not know: "
            "a newer spotilla-procountor upgraded it; run that version"
        )
    return Problem(ProblemKind.SCHEMA_NOT_CURRENT, message)


def _revisions(revisions: Iterable[str]) -> str:
    return ", ".join(sorted(revisions))


def _key_problem(cipher: CredentialCipher) -> Problem | None:
    try:
        cipher.check()
    except (MissingSecretKey, InvalidSecretKey) as exc:
        return Problem(ProblemKind.SECRET_KEY, str(exc))
    return None


def _credential_problems(tenants: TenantService, enabled: list[TenantConfig]) -> list[Problem]:
    """Every enabled tenant's credentials resolved as a run resolves them, the failures grouped by cause."""
    found: dict[ProblemKind, list[int]] = {}
    for config in enabled:
        try:
            tenants.credentials(config)
        except CredentialsUnreadable:
            found.setdefault(ProblemKind.CREDENTIALS_UNREADABLE, []).append(config.organization_id)
        except NoApiClient:
            found.setdefault(ProblemKind.NO_API_CLIENT, []).append(config.organization_id)
        except TenantNotConfigured:
            found.setdefault(ProblemKind.CREDENTIALS_MISSING, []).append(config.organization_id)
    return [Problem(kind, _CREDENTIAL_MESSAGES[kind].format(orgs=_orgs(orgs))) for kind, orgs in found.items()]


def _orgs(organization_ids: list[int]) -> str:
    word = "organization" if len(organization_ids) == 1 else "organizations"
    return f"{word} {', '.join(map(str, organization_ids))}"


_CREDENTIAL_MESSAGES = {
    ProblemKind.CREDENTIALS_UNREADABLE: (
        "no key in SPOTILLA_PROCOUNTOR_SECRET_KEY decrypts the stored credentials of {orgs} (was the key "
        "replaced?): put the old key back after the new one, comma-separated, and run `tenants rotate-key`, "
        "or switch them on again with `tenants enable`"
    ),
    ProblemKind.NO_API_CLIENT: (
        "the integration's Procountor API client is needed by {orgs}, but SPOTILLA_PROCOUNTOR_CLIENT_ID and "
        "SPOTILLA_PROCOUNTOR_CLIENT_SECRET (or their _FILE settings) are not both set"
    ),
    ProblemKind.CREDENTIALS_MISSING: "no API key is stored for {orgs}: switch it on again with `tenants enable`",
}

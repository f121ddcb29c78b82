"""One error tree for everything a port can raise; the names tell the caller what to do."""

from __future__ import annotations


class IntegrationError(Exception):
    """Root of every error a port raises; nothing else crosses a port."""


class ProcountorError(IntegrationError):
    """Root of the errors the Procountor gateway raises."""


class ProcountorRejected(ProcountorError):
    """Procountor refused this one item (400). Skip the item with the reason; do not retry unchanged."""

    def __init__(self, errors: list[tuple[str | None, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in errors) or "rejected")


class FieldNotSendable(ProcountorRejected):
    """A value cannot be sent at all (too long, outside Windows-1252); refused before sending."""


class AuthenticationFailed(ProcountorError):
    """The tenant's credentials are wrong or revoked. Stop the tenant's run; a person must act."""


class AccessDenied(ProcountorError):
    """Procountor answered 403: the API user lacks rights for this. Skip the item; a person must act."""


class NotFound(ProcountorError):
    """Procountor has no such object (404)."""


class TemporarilyUnavailable(ProcountorError):
    """Procountor is unreachable, slow or busy (429, 5xx, timeouts) even after retries. Try next run."""


class NotSent(TemporarilyUnavailable):
    """A create was not sent at all: it waited past its deadline for its turn. Send it again next run."""


class OutcomeUnknown(ProcountorError):
    """A create was sent but its answer was lost; the object may exist. Look it up before creating again."""


class RepositoryError(IntegrationError):
    """The Spotilla database or the integration's state store failed; the run ends as failed."""


class LockLost(IntegrationError):
    """The run no longer holds its tenant's lock (a dropped connection, an expired lease, another run took it).

    Raised by a claim, before anything is sent: the run stops and is recorded FAILED with this reason.
    """


class RecordConflict(RepositoryError):
    """A record would pair a Procountor object already paired with another Spotilla item. Hold the item back."""


class RunAlreadyInProgress(IntegrationError):
    """Another run of this tenant holds the lock; this one does not start."""

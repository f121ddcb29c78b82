"""The integration's own Procountor API client, and tenants' secrets encrypted at rest with the service's Fernet keys.

SECRET_KEY holds one key, or several separated by commas, newest first (cryptography's MultiFernet): the newest
encrypts, any of them decrypts, so a new key can be put in front while what the old one encrypted still reads;
`tenants rotate-key` then re-encrypts everything with the newest, and the old key can go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from spotilla_procountor.app.settings import Settings

_KEY = "SPOTILLA_PROCOUNTOR_SECRET_KEY"


class MissingSecretKey(RuntimeError):
    """No encryption key is configured."""

    def __init__(self) -> None:
        super().__init__(
            f"Tenant credentials are encrypted at rest, but {_KEY} is not set. "
            "Create one with `spotilla-procountor keygen` and set it in the environment or .env."
        )


class InvalidSecretKey(ValueError):
    """SECRET_KEY is set but one of its keys is not a Fernet key; the message says which, never the key."""


class CredentialsUnreadable(ValueError):
    """Stored credentials that none of the configured keys decrypts (the key was changed, or the data damaged)."""


@dataclass(frozen=True)
class ApiClient:
    """A Procountor API client: the integrator's (one for all tenants) or an organization's own."""

    client_id: str
    client_secret: str = field(repr=False)


def service_client(settings: Settings) -> ApiClient | None:
    """The integration's own API client from CLIENT_ID / CLIENT_SECRET, or None when either is missing."""
    if settings.client_id is None or settings.client_secret is None:
        return None
    return ApiClient(settings.client_id, settings.client_secret.get_secret_value())


class CredentialCipher:
    """Encrypts with the newest key, decrypts with any; never logs or shows a secret or a key."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.secret_key

    def _fernets(self) -> list[Fernet]:
        if self._key is None:
            raise MissingSecretKey()
        keys = [key.strip() for key in self._key.get_secret_value().split(",")]
        fernets = []
        for number, key in enumerate(keys, start=1):
            which = f"key {number} of {len(keys)} in it" if len(keys) > 1 else "it"
            try:
                fernets.append(Fernet(key.encode()))
            except ValueError:
                raise InvalidSecretKey(
                    f"{_KEY} is not valid: {which} is not a Fernet key (32 url-safe base64-encoded bytes); "
                    "create one with `spotilla-procountor keygen`"
                ) from None
        return fernets

    def check(self) -> int:
        """How many keys are configured; raises MissingSecretKey or InvalidSecretKey when they cannot be used."""
        return len(self._fernets())

    def encrypt(self, secret: str) -> str:
        return self._fernets()[0].encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return MultiFernet(self._fernets()).decrypt(token.encode()).decode()
        except InvalidToken:
            raise CredentialsUnreadable(f"stored credentials cannot be decrypted with any key in {_KEY}") from None

    def is_current(self, token: str) -> bool:
        """Whether the newest key alone decrypts `token` (then rotating it changes nothing that matters)."""
        try:
            self._fernets()[0].decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """`token` re-encrypted with the newest key; CredentialsUnreadable when no configured key decrypts it."""
        try:
            return MultiFernet(self._fernets()).rotate(token.encode()).decode()
        except InvalidToken:
            raise CredentialsUnreadable(f"stored credentials cannot be decrypted with any key in {_KEY}") from None

    def __repr__(self) -> str:
        return "CredentialCipher(key=***)"


def new_key() -> str:
    """A fresh Fernet key for SPOTILLA_PROCOUNTOR_SECRET_KEY."""
    return Fernet.generate_key().decode()

"""Tenants' Procountor credentials, encrypted at rest with a Fernet key from the settings."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from spotilla_procountor.app.settings import Settings


class MissingSecretKey(RuntimeError):
    """No encryption key is configured."""

    def __init__(self) -> None:
        super().__init__(
            "Tenant credentials are encrypted at rest, but SPOTILLA_PROCOUNTOR_SECRET_KEY is not set. "
            "Create one with `spotilla-procountor keygen` and set it in the environment or .env."
        )


class CredentialCipher:
    """Encrypts and decrypts credential strings; never logs or shows them."""

    def __init__(self, settings: Settings) -> None:
        self._key = settings.secret_key

    def _fernet(self) -> Fernet:
        if self._key is None:
            raise MissingSecretKey()
        try:
            return Fernet(self._key.get_secret_value().encode())
        except ValueError as exc:
            raise ValueError("SPOTILLA_PROCOUNTOR_SECRET_KEY is not a valid key; create one with `keygen`.") from exc

    def encrypt(self, secret: str) -> str:
        return self._fernet().encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet().decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored credentials cannot be decrypted with SPOTILLA_PROCOUNTOR_SECRET_KEY") from exc

    def __repr__(self) -> str:
        return "CredentialCipher(key=***)"


def new_key() -> str:
    """A fresh Fernet key for SPOTILLA_PROCOUNTOR_SECRET_KEY."""
    return Fernet.generate_key().decode()

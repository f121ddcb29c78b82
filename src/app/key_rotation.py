"""`tenants rotate-key`: every tenant's stored secrets re-encrypted with the newest key in SECRET_KEY."""

from __future__ import annotations

from dataclasses import dataclass, field

from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.credentials import CredentialCipher, CredentialsUnreadable

_ATTEMPTS = 3  # a tenant switched on again while it is re-encrypted is read again; it rarely takes more than one


@dataclass
class KeyRotation:
    """What a rotation did, by organization id."""

    rotated: list[int] = field(default_factory=list)
    """Re-encrypted with the newest key."""
    current: list[int] = field(default_factory=list)
    """Already encrypted with the newest key: left as they were."""
    unreadable: list[int] = field(default_factory=list)
    """No configured key decrypts them: left as they were."""
    busy: list[int] = field(default_factory=list)
    """Changed by someone else each time they were re-encrypted: left for the next rotation."""


def rotate_keys(state, cipher: CredentialCipher) -> KeyRotation:
    """Re-encrypts each tenant (on or off) in a transaction of its own; running it again re-encrypts nothing."""
    cipher.check()  # a missing or invalid key stops it before anything is read
    result = KeyRotation()
    for config in state.settings_rows():
        _rotate_one(state, cipher, config, result)
    return result


def _rotate_one(state, cipher: CredentialCipher, config: TenantConfig, result: KeyRotation) -> None:
    org = config.organization_id
    for _ in range(_ATTEMPTS):
        old = (config.client_secret_enc, config.api_key_enc)
        if all(token is None or cipher.is_current(token) for token in old):
            result.current.append(org)
            return
        try:
            new = (_rotated(cipher, old[0]), _rotated(cipher, old[1]))
        except CredentialsUnreadable:
            result.unreadable.append(org)
            return
        if state.replace_secrets(org, old, new):
            result.rotated.append(org)
            return
        config = state.settings_row(org)
        if config is None:  # deleted meanwhile: nothing left to re-encrypt
            return
    result.busy.append(org)


def _rotated(cipher: CredentialCipher, token: str | None) -> str | None:
    return None if token is None else cipher.rotate(token)

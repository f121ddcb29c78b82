"""M2M access tokens: the form body of the token call, and a single-flight cache that renews them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from spotilla_procountor.domain.errors import AuthenticationFailed

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"  # no charset parameter: Procountor refuses one
DEFAULT_LIFETIME_S = 3600.0
RENEW_BEFORE_S = 60.0


@dataclass(frozen=True)
class Credentials:
    """One Procountor API client plus the customer's API key; never printed."""

    client_id: str
    client_secret: str
    api_key: str
    redirect_uri: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret=***, api_key=***)"

    def token_form(self) -> bytes:
        """The client-credentials form body; redirect_uri only when configured."""
        fields = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
            ("api_key", self.api_key),
        ]
        if self.redirect_uri:
            fields.append(("redirect_uri", self.redirect_uri))
        return urlencode(fields).encode("ascii")


@dataclass(frozen=True)
class Token:
    """A bearer token and when (monotonic seconds) to stop using it."""

    value: str
    renew_at: float
    generation: int

    def __repr__(self) -> str:
        return f"Token(generation={self.generation}, renew_at={self.renew_at:.0f})"


def parse_token_answer(content: bytes) -> tuple[str, float]:
    """(access_token, expires_in seconds) from the token endpoint's JSON answer."""
    try:
        body = json.loads(content)
        value = body["access_token"]
        lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME_S)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise AuthenticationFailed("Procountor's token answer had no access_token") from None
    if not isinstance(value, str) or not value:
        raise AuthenticationFailed("Procountor's token answer had no access_token")
    return value, lifetime


class TokenManager:
    """Caches the token; renews it shortly before expiry or after a 401, one request at a time.

    Single flight: every caller that saw a 401 with generation g asks `renew(g)`; the first one fetches
    while holding the lock, the rest find a newer generation when they get the lock and reuse it.
    """

    def __init__(self, fetch: Callable[[], tuple[str, float]], *, monotonic: Callable[[], float]) -> None:
        self._fetch = fetch
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._generation = 0

    def current(self) -> Token:
        """A token that is not about to expire, fetching one if needed."""
        with self._lock:
            token = self._token
            if token is None or self._monotonic() >= token.renew_at:
                token = self._renew_locked()
            return token

    def renew(self, rejected: Token) -> Token:
        """A token newer than `rejected` (which got a 401); fetches only if nobody else already did."""
        with self._lock:
            token = self._token
            if token is None or token.generation == rejected.generation:
                token = self._renew_locked()
            return token

    def _renew_locked(self) -> Token:
        """Fetches a token; the caller holds the lock."""
        asked_at = self._monotonic()
        value, lifetime = self._fetch()
        self._generation += 1
        # Short-lived tokens (tests, or a server that shortens them) are used for half their life.
        renew_at = asked_at + max(lifetime - RENEW_BEFORE_S, lifetime / 2)
        self._token = Token(value, renew_at, self._generation)
        return self._token

    def __repr__(self) -> str:
        return f"TokenManager(generation={self._generation})"

"""Who is asking: Spotilla's signed tokens (HS256 JWTs with `sub`, `org`, `role`, `exp`) and the pages' session.

Spotilla signs its user in with a short-lived token signed with the shared secret `WEB_JWT_SECRET`. The JSON API
takes it as `Authorization: Bearer …`. The pages are opened through `/launch?token=…`, which turns the token into
a session cookie of our own: a JWT signed with a key *derived* from the shared secret (so a launch token is never
a session, nor a session a launch token), HttpOnly and SameSite=Lax, carrying a random CSRF value that the pages
send back in the `X-CSRF-Token` header on every request that changes something.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt

ALGORITHM = "HS256"
SESSION_COOKIE = "spotilla_procountor_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_AUDIENCE = "spotilla-procountor/session"
MIN_SECRET_BYTES = 32
LEEWAY = timedelta(seconds=30)
"""Clocks of Spotilla's servers and ours differ a little."""


class Role(StrEnum):
    ADMIN = "admin"
    """A tenant's admin: sees and changes only its own organization."""
    OPERATOR = "operator"
    """Spotilla's operators: every organization."""


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user."""

    subject: str
    organization_id: int
    role: Role
    csrf: str | None = None
    """The session's CSRF value; None when the request came with a Bearer token (no cookie, no CSRF)."""

    def may_see(self, organization_id: int) -> bool:
        return self.role == Role.OPERATOR or self.organization_id == organization_id


class NotAuthenticated(Exception):
    """Missing, expired, forged or malformed token (401); the message says which, never the token."""


class WeakSecret(ValueError):
    """WEB_JWT_SECRET is shorter than an HS256 key should be."""


@dataclass(frozen=True, slots=True)
class Session:
    """The value of the session cookie and when it ends."""

    cookie: str
    expires_at: datetime
    principal: Principal


class Tokens:
    """Checks Spotilla's tokens and issues and checks the pages' sessions."""

    def __init__(
        self,
        secret: str,
        *,
        max_token_lifetime: timedelta = timedelta(hours=1),
        session_lifetime: timedelta = timedelta(hours=8),
    ) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise WeakSecret(
                f"WEB_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (an HS256 key); "
                "make one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        self._secret = secret.encode()
        self._session_key = hmac.new(self._secret, b"spotilla-procountor session cookie", hashlib.sha256).digest()
        self._max_token_lifetime = max_token_lifetime
        self._session_lifetime = session_lifetime

    # -- Spotilla's tokens ------------------------------------------------------------------------------------

    def issue(
        self, *, subject: str, organization_id: int, role: Role, lifetime: timedelta = timedelta(minutes=15)
    ) -> str:
        """A token as Spotilla signs it (for `spotilla-procountor token`, demos and tests)."""
        now = datetime.now(UTC)
        claims = {"sub": subject, "org": organization_id, "role": str(role), "iat": now, "exp": now + lifetime}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The token's user; NotAuthenticated when it is expired, forged, malformed or lives too long."""
        claims = self._decode(token, self._secret, audience=None)
        if "aud" in claims:
            raise NotAuthenticated("the token is not one of Spotilla's sign-in tokens")
        remaining = _expiry(claims) - datetime.now(UTC)
        if remaining > self._max_token_lifetime + LEEWAY:
            raise NotAuthenticated(
                f"the token is valid for longer than {self._max_token_lifetime}; sign-in tokens must be short-lived"
            )
        return _principal(claims)

    # -- sessions of the pages ------------------------------------------------------------------------------------

    def start_session(self, principal: Principal) -> Session:
        """A new session for the user of a verified launch token, with a fresh CSRF value."""
        expires = datetime.now(UTC) + self._session_lifetime
        csrf = secrets.token_urlsafe(32)
        claims = {
            "sub": principal.subject,
            "org": principal.organization_id,
            "role": str(principal.role),
            "csrf": csrf,
            "aud": SESSION_AUDIENCE,
            "exp": expires,
        }
        cookie = jwt.encode(claims, self._session_key, algorithm=ALGORITHM)
        return Session(cookie, expires, Principal(principal.subject, principal.organization_id, principal.role, csrf))

    def session(self, cookie: str) -> Principal:
        """The user of a session cookie; NotAuthenticated when it has ended or was not made here."""
        claims = self._decode(cookie, self._session_key, audience=SESSION_AUDIENCE)
        csrf = claims.get("csrf")
        if not isinstance(csrf, str) or len(csrf) < 32:
            raise NotAuthenticated("the session has no CSRF value; open the page from Spotilla again")
        principal = _principal(claims)
        return Principal(principal.subject, principal.organization_id, principal.role, csrf)

    @staticmethod
    def csrf_matches(principal: Principal, sent: str | None) -> bool:
        return principal.csrf is not None and sent is not None and hmac.compare_digest(principal.csrf, sent)

    @staticmethod
    def _decode(token: str, key: bytes, *, audience: str | None) -> dict:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                leeway=LEEWAY,
                options={"require": ["exp", "sub", "org", "role"], "verify_aud": audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("the token has expired; open the page from Spotilla again") from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("the token's signature is not valid") from None
        except jwt.MissingRequiredClaimError as exc:
            raise NotAuthenticated(f"the token has no {exc.claim!r} claim") from None
        except jwt.InvalidTokenError as exc:
            raise NotAuthenticated(f"the token is not valid ({type(exc).__name__})") from None
        except (TypeError, ValueError, OverflowError, OSError):  # claims of shapes PyJWT's checks trip over
            raise NotAuthenticated("the token's claims are malformed") from None


def _expiry(claims: dict) -> datetime:
    """The token's `exp` as a moment; PyJWT also lets a numeric string or a number past year 9999 through."""
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise NotAuthenticated("the token's 'exp' claim is not a number of seconds")
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        raise NotAuthenticated("the token's 'exp' claim is not a moment") from None


def _principal(claims: dict) -> Principal:
    org, role, subject = claims.get("org"), claims.get("role"), claims.get("sub")
    if not isinstance(org, int) or isinstance(org, bool) or not 0 < org < 2**31:
        raise NotAuthenticated("the token's 'org' claim is not an organization id")
    if not isinstance(role, str) or role not in {r.value for r in Role}:
        raise NotAuthenticated("the token's 'role' claim is neither 'admin' nor 'operator'")
    if not isinstance(subject, str) or not subject.strip():
        raise NotAuthenticated("the token's 'sub' claim is empty")
    return Principal(subject, org, Role(role))

"""M2M token endpoint (client credentials + API key) and bearer-token checks."""

# UNCONFIRMED choices, strictest reading: credentials in the query string are rejected (400); the
# Content-Type must be exactly application/x-www-form-urlencoded (no charset parameter);
# `redirect_uri` is optional and not compared; token errors use the OAuth `error`/`error_description`
# body; `token_type` is "bearer"; no refresh token is issued.

from dataclasses import dataclass
from urllib.parse import parse_qs

from .messages import ApiError, FakeRequest, FakeResponse, json_response
from .state import Store

_CREDENTIAL_FIELDS = frozenset({"grant_type", "client_id", "client_secret", "api_key"})
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Credentials:
    """What the fake company's API client must present."""

    client_id: str
    client_secret: str
    api_key: str


def _oauth_error(status: int, code: str, description: str) -> FakeResponse:
    """An OAuth-style error answer."""
    return json_response(status, {"error": code, "error_description": description})


def _form(request: FakeRequest) -> dict[str, str]:
    """The urlencoded form fields (first value of each)."""
    try:
        fields = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    return {key: values[0] for key, values in fields.items()}


def token_client_id(request: FakeRequest) -> str | None:
    """The client id a token request claims, for rate limiting."""
    return _form(request).get("client_id")


def issue_token(store: Store, creds: Credentials, lifetime_s: float, request: FakeRequest) -> FakeResponse:
    """POST {base}/oauth/token."""
    content_type = request.headers.get("content-type", "").strip().lower()
    if content_type != _FORM:
        return _oauth_error(400, "invalid_request", f"Content-Type must be exactly {_FORM}")
    if _CREDENTIAL_FIELDS & set(request.query):
        return _oauth_error(400, "invalid_request", "Credentials must be sent in the request body")
    form = _form(request)
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    given = (form.get("client_id"), form.get("client_secret"), form.get("api_key"))
    if given != (creds.client_id, creds.client_secret, creds.api_key):
        return _oauth_error(401, "invalid_client", "Invalid client credentials or API key")
    token = store.issue_token(creds.client_id, lifetime_s)
    return json_response(200, {"access_token": token, "expires_in": int(lifetime_s), "token_type": "bearer"})


def _bearer(request: FakeRequest) -> str | None:
    """The token of an `Authorization: Bearer ...` header."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def bearer_client_id(store: Store, request: FakeRequest) -> str | None:
    """The client a bearer token belongs to (expired or not), for rate limiting."""
    value = _bearer(request)
    token = store.token(value) if value else None
    return token.client_id if token else None


def require_token(store: Store, request: FakeRequest) -> None:
    """401 unless the request carries a known, unexpired bearer token."""
    value = _bearer(request)
    token = store.token(value) if value else None
    if token is None:
        raise ApiError(401, message="UNAUTHORIZED: missing or unknown access token")
    if store.now() >= token.expires_at:
        raise ApiError(401, message="UNAUTHORIZED: access token has expired")

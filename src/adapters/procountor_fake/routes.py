"""Maps a request path to a route key and handler, under every documented version prefix."""

# Prefixes: /api, /latest/api, /supported/api and /vYYMM/api all serve the same resources; a trailing
# slash is accepted everywhere (VG's client posts to `oauth/token/`).

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import invoices, partners, products
from .messages import FakeRequest, FakeResponse, json_response

PREFIX = re.compile(r"^/(?:(?:latest|supported|v\d{4})/)?api(?P<rest>/.*)$")
_PLACEHOLDERS = {"{ids}": r"(?P<ids>\d+(?:,\d+)*)", "{id}": r"(?P<id>\d+)"}

Handler = Callable[..., FakeResponse]


@dataclass(frozen=True)
class Route:
    """One endpoint: key like "POST /invoices" and a handler taking (api, request, **path params)."""

    method: str
    template: str
    handler: Handler
    pattern: re.Pattern

    @property
    def key(self) -> str:
        """The fault-plan key for this route."""
        return f"{self.method} {self.template}"


def _route(method: str, template: str, handler: Handler) -> Route:
    """Compile a template with {id}/{ids} placeholders."""
    regex = re.escape(template)
    for placeholder, group in _PLACEHOLDERS.items():
        regex = regex.replace(re.escape(placeholder), group)
    return Route(method, template, handler, re.compile(f"^{regex}$"))


def _transition(action: str) -> Route:
    """A PUT /invoices/{id}/<action> status change."""
    return _route(
        "PUT", f"/invoices/{{id}}/{action}", lambda api, req, id: invoices.transition(api.store, int(id), action)
    )


OAUTH_ROUTE_KEY = "POST /oauth/token"
ROUTES = (
    _route("POST", "/oauth/token", lambda api, req: api.issue_token(req)),
    _route("GET", "/company", lambda api, req: json_response(200, dict(api.company))),
    _route("GET", "/businesspartners", lambda api, req: partners.search(api.store, req)),
    _route("GET", "/businesspartners/{ids}", lambda api, req, ids: partners.get_many(api.store, ids)),
    _route("POST", "/businesspartners", lambda api, req: partners.create(api.store, req)),
    _route("PUT", "/businesspartners/{id}", lambda api, req, id: partners.replace(api.store, req, int(id))),
    _route("PATCH", "/businesspartners/{id}", lambda api, req, id: partners.patch(api.store, req, int(id))),
    _route("GET", "/products", lambda api, req: products.search(api.store, req)),
    _route("GET", "/products/{ids}", lambda api, req, ids: products.get_many(api.store, ids)),
    _route("POST", "/products", lambda api, req: products.create(api.store, req, api.vat_percentages)),
    _route("PUT", "/products/{id}", lambda api, req, id: products.update(api.store, req, int(id), api.vat_percentages)),
    _route("DELETE", "/products/{id}", lambda api, req, id: products.delete(api.store, int(id))),
    _route("GET", "/vats/default", lambda api, req: products.default_vats(api.vat_percentages)),
    _route("GET", "/invoices", lambda api, req: invoices.search(api.store, req)),
    _route("GET", "/invoices/{ids}", lambda api, req, ids: invoices.get_many(api.store, ids)),
    _route("POST", "/invoices", lambda api, req: invoices.create(api.store, req, api.vat_percentages)),
    _route("PUT", "/invoices/{id}", lambda api, req, id: invoices.update(api.store, req, int(id), api.vat_percentages)),
    *(_transition(action) for action in invoices.TRANSITIONS),
)


def resolve(request: FakeRequest) -> tuple[Route, dict[str, str]] | None:
    """The route and its path parameters, or None when nothing matches (404)."""
    match = PREFIX.match(request.path)
    if not match:
        return None
    rest = match.group("rest").rstrip("/") or "/"
    for route in ROUTES:
        found = route.pattern.match(rest) if route.method == request.method else None
        if found:
            return route, found.groupdict()
    return None

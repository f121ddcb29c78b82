"""What the HTTP exchange tells an observer (metrics): each answer by route template, each 429, each limiter."""

from __future__ import annotations

import re
from typing import Protocol

from .ratelimit import RateLimiter

NO_ANSWER = "no_answer"
"""The status of a request that got no HTTP answer (connection refused, timeout, reset)."""

_ID_SEGMENT = re.compile(r"^\d+(,\d+)*$")


class ProcountorObserver(Protocol):
    """Receives what happens on the wire; must be cheap and must never raise (it runs on every request)."""

    def answered(self, method: str, route: str, status: str) -> None:
        """One HTTP exchange ended: `route` is a bounded template (`/businesspartners/{id}`), `status` the HTTP
        status code as text, or `NO_ANSWER`."""

    def throttled(self) -> None:
        """Procountor answered 429 (too many requests)."""

    def watch_rate_limiter(self, *, client_id: str, base_url: str, limiter: RateLimiter) -> None:
        """A rate limiter was made for one API client at one Procountor environment; read it when asked."""


def route_template(path: str, prefix: str = "") -> str:
    """The request path without the API prefix, every id (or comma-separated id list) replaced by `{id}`.

    Only ids vary in the paths the gateway builds; queries (where search terms travel) are never part of it, so
    the number of templates is bounded by the code, whatever the data.
    """
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :] or "/"
    return "/".join("{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/"))

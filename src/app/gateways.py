"""Builds each tenant's Procountor gateway: its own credentials, one shared rate limit per API client."""

from __future__ import annotations

import hashlib
import threading

import httpx

from spotilla_procountor.adapters.procountor_http import HttpProcountorGateway, RateLimiter
from spotilla_procountor.adapters.procountor_http.observer import ProcountorObserver
from spotilla_procountor.app.settings import PROCOUNTOR_HOSTS, Settings

FAKE_BASE_URL = "http://fake-procountor.invalid"


def base_url_for(environment: str) -> str:
    """`test`, `production` or an explicit URL (e.g. a fake Procountor on loopback)."""
    if environment in PROCOUNTOR_HOSTS:
        return PROCOUNTOR_HOSTS[environment]
    if environment.startswith(("http://", "https://")):
        return environment.rstrip("/")
    raise ValueError(f"unknown Procountor environment {environment!r}: use test, production or a URL")


class GatewayFactory:
    """One gateway per tenant and run; gateways of the same API client share one rate limiter.

    Procountor's limit is per API client (client id), not per company: an integrator usually has one client
    and a customer API key per tenant, so tenants with different API keys still share one limit. An `observer`
    (metrics) hears of every request, every 429 and every limiter made.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        observer: ProcountorObserver | None = None,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._observer = observer
        self._limiters: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def limiter(self, base_url: str, client_id: str) -> RateLimiter:
        """The rate limiter of one API client at one Procountor environment."""
        key = hashlib.sha256(f"{base_url}\0{client_id}".encode()).hexdigest()
        with self._lock:
            if key not in self._limiters:
                limiter = RateLimiter(self._settings.rate_limit_per_s, margin=self._settings.rate_limit_margin)
                self._limiters[key] = limiter
                if self._observer is not None:
                    self._observer.watch_rate_limiter(client_id=client_id, base_url=base_url, limiter=limiter)
            return self._limiters[key]

    def gateway(
        self,
        *,
        environment: str,
        client_id: str,
        client_secret: str,
        api_key: str,
        bank_account: str | None = None,
    ) -> HttpProcountorGateway:
        """A gateway for one tenant's credentials; close it (or use it as a context manager) after the run."""
        base_url = FAKE_BASE_URL if self._transport is not None else base_url_for(environment)
        if self._transport is None and environment == "test" and self._settings.procountor_test_url:
            base_url = base_url_for(self._settings.procountor_test_url)
        return HttpProcountorGateway(
            base_url=base_url,
            api_prefix=self._settings.procountor_api_prefix,
            client_id=client_id,
            client_secret=client_secret,
            api_key=api_key,
            bank_account=bank_account,
            rate_limiter=self.limiter(base_url, client_id),
            max_in_flight=self._settings.max_in_flight,
            timeout=self._settings.request_timeout_s,
            transport=self.transport(),
            observer=self._observer,
        )

    def transport(self) -> httpx.BaseTransport | None:
        """The transport of a new gateway: the in-process fake's, or None for the network (the gateway's own)."""
        return self._transport

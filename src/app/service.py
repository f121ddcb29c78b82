"""Use cases of the service: sync a tenant (locked, with its own credentials), sync all, manage tenants."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

from spotilla_procountor.adapters.procountor_http.auth import Credentials  # in clear, only in memory while used
from spotilla_procountor.adapters.spotilla_sql.run_lock import holder_id
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.credentials import CredentialCipher
from spotilla_procountor.app.gateways import GatewayFactory, base_url_for
from spotilla_procountor.app.logs import run_context
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.concurrency import StopRequest
from spotilla_procountor.domain.errors import IntegrationError
from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.ports import Clock, SpotillaRepository
from spotilla_procountor.domain.state import Event, Fence, RunStatus
from spotilla_procountor.domain.sync import SyncCycle, SyncReport
from spotilla_procountor.domain.sync_context import SyncOptions

log = logging.getLogger("spotilla_procountor.service")


class TenantNotConfigured(LookupError):
    """The organization has not switched the integration on."""


class TenantService:
    """Switches tenants on and off; credentials are verified with Procountor and stored encrypted."""

    def __init__(self, *, state, cipher: CredentialCipher, gateways: GatewayFactory) -> None:
        self._state = state
        self._cipher = cipher
        self._gateways = gateways

    def enable(
        self,
        organization_id: int,
        credentials: Credentials,
        *,
        environment: str = "test",
        policy: TransferPolicy = TransferPolicy.ALL_COMPLETED,
        bank_account: str | None = None,
        verify: bool = True,
    ) -> TenantConfig:
        """Verifies the credentials with a token request, then stores them encrypted and switches the tenant on."""
        base_url_for(environment)  # a wrong environment is refused before anything is stored
        if verify:
            with self._gateways.gateway(
                environment=environment,
                client_id=credentials.client_id,
                client_secret=credentials.client_secret,
                api_key=credentials.api_key,
            ) as gateway:
                gateway.verify_credentials()
        existing = self._state.settings_row(organization_id)
        config = TenantConfig(
            organization_id=organization_id,
            enabled=True,
            policy=policy,
            environment=environment,
            client_id=credentials.client_id,
            client_secret_enc=self._cipher.encrypt(credentials.client_secret),
            api_key_enc=self._cipher.encrypt(credentials.api_key),
            bank_account=bank_account,
            created_at=existing.created_at if existing else None,
        )
        self._state.save_settings(config)
        return config

    def disable(self, organization_id: int) -> None:
        config = self.config(organization_id)
        self._state.save_settings(replace(config, enabled=False))

    def list(self) -> list[TenantConfig]:
        return self._state.settings_rows()

    def credentials(self, config: TenantConfig) -> Credentials:
        if not (config.client_id and config.client_secret_enc and config.api_key_enc):
            raise TenantNotConfigured(f"organization {config.organization_id} has no Procountor credentials")
        return Credentials(
            config.client_id, self._cipher.decrypt(config.client_secret_enc), self._cipher.decrypt(config.api_key_enc)
        )

    def config(self, organization_id: int) -> TenantConfig:
        """The tenant's stored configuration; a clear error when it never switched the integration on."""
        found = self._state.settings_row(organization_id)
        if found is None:
            raise TenantNotConfigured(
                f"organization {organization_id} has not switched the integration on; "
                f"use `spotilla-procountor tenants enable {organization_id} …`"
            )
        return found


_STOPPED = "it stopped after the items under way, and the next run does the rest"


class _LeaseKeeper:
    """Renews the tenant's run lock while a run goes on; if it is lost, the run stops between items.

    Also passes the service's own stop request on to the run. Without renewal a run longer than the lease
    (a large tenant's first sync) would let another process start the same tenant.
    """

    def __init__(self, state, organization_id: int, holder: str, ttl_s: float, service_stop: threading.Event) -> None:
        self.run_stop = StopRequest()
        self._done = threading.Event()
        self._args = (state, organization_id, holder, ttl_s, service_stop)
        self._thread = threading.Thread(target=self._watch, name=f"lease-{organization_id}", daemon=True)

    def __enter__(self) -> StopRequest:
        self._thread.start()
        return self.run_stop

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        """Renews every third of the lease; a renewal that fails is tried again each second, and if a third of the
        lease is all that is left, the run is stopped before another process could take the tenant."""
        state, organization_id, holder, ttl_s, service_stop = self._args
        renew_every, renewed_at = ttl_s / 3, time.monotonic()
        while not self._done.wait(timeout=min(1.0, renew_every)):
            if service_stop.is_set():
                self.run_stop.set()
            if time.monotonic() - renewed_at < renew_every:
                continue
            try:
                held = state.renew_run_lock(organization_id, holder, ttl_s)
            except IntegrationError as exc:
                log.warning("could not renew the run lock, trying again: %s", exc)
                if time.monotonic() - renewed_at >= 2 * renew_every:
                    self.run_stop.fail(f"the run could not renew its lock on the tenant ({exc}); {_STOPPED}")
                continue
            if not held:
                self.run_stop.fail(
                    f"the run lost its lock on the tenant (was the database connection dropped?); {_STOPPED}"
                )
                return
            renewed_at = time.monotonic()


class SyncService:
    """Runs cycles: one tenant at a time per lock, every tenant with its own credentials and rate limit."""

    def __init__(
        self,
        *,
        settings: Settings,
        spotilla: SpotillaRepository,
        state,
        clock: Clock,
        gateways: GatewayFactory,
        tenants: TenantService,
        stop: threading.Event | None = None,
    ) -> None:
        self._settings = settings
        self._spotilla = spotilla
        self._state = state
        self._clock = clock
        self._gateways = gateways
        self._tenants = tenants
        self.stop = stop or threading.Event()
        self.on_event: Callable[[Event], None] | None = None

    def sync(self, organization_id: int, *, dry_run: bool = False) -> SyncReport:
        """One cycle of one tenant; skipped (not queued) when another process is running it."""
        config = self._tenants.config(organization_id)
        if not config.enabled:
            return SyncReport(organization_id, RunStatus.SKIPPED, error="the integration is switched off")
        if dry_run:  # a dry run writes nothing, not even a lock
            return self._cycle(config, dry_run=True, stop=self.stop)
        holder, ttl = holder_id(), self._settings.lock_ttl_s
        with self._state.run_lock(organization_id, holder, ttl) as fence:
            if fence is None:
                log.info(
                    "run skipped: another run of this organization is in progress",
                    extra={"organization_id": organization_id},
                )
                return SyncReport(organization_id, RunStatus.SKIPPED, error="another run is in progress")
            with _LeaseKeeper(self._state, organization_id, holder, ttl, self.stop) as run_stop:
                return self._cycle(config, dry_run=False, stop=run_stop, fence=fence)

    def _cycle(
        self, config: TenantConfig, *, dry_run: bool, stop: threading.Event, fence: Fence | None = None
    ) -> SyncReport:
        try:
            credentials = self._tenants.credentials(config)
        except (TenantNotConfigured, ValueError) as exc:
            return SyncReport(config.organization_id, RunStatus.FAILED, error=str(exc), dry_run=dry_run)
        options = SyncOptions(
            workers=self._settings.sync_workers,
            partner_pull_overlap=timedelta(seconds=self._settings.partner_pull_overlap_s),
            claim_grace=timedelta(seconds=self._settings.claim_grace_s),
            stop=stop,
            run_scope=lambda org, run: run_context(organization_id=org, run_id=run),
            on_event=self.on_event,
        )
        with self._gateways.gateway(
            environment=config.environment,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            api_key=credentials.api_key,
            bank_account=config.bank_account,
        ) as gateway:
            cycle = SyncCycle(
                procountor=gateway, spotilla=self._spotilla, state=self._state, clock=self._clock, options=options
            )
            return cycle.run(config.organization_id, fence=fence, dry_run=dry_run)

    def sync_all(self) -> list[SyncReport]:
        """One cycle of every enabled tenant, up to `tenant_concurrency` at a time."""
        enabled = [c.organization_id for c in self._tenants.list() if c.enabled]
        with ThreadPoolExecutor(max_workers=self._settings.tenant_concurrency, thread_name_prefix="tenant") as pool:
            return list(pool.map(self._safe_sync, enabled))

    def _safe_sync(self, organization_id: int) -> SyncReport:
        try:
            return self.sync(organization_id)
        except (IntegrationError, TenantNotConfigured) as exc:
            log.error("tenant run failed", extra={"organization_id": organization_id, "error": str(exc)})
            return SyncReport(organization_id, RunStatus.FAILED, error=str(exc))

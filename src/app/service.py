"""Use cases of the service: sync a tenant (locked, with its own credentials), sync all, manage tenants."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from stdnum import iban
from stdnum.exceptions import ValidationError

from spotilla_procountor.adapters.procountor_http.auth import Credentials  # in clear, only in memory while used
from spotilla_procountor.adapters.spotilla_sql.run_lock import holder_id
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.alerts import RunAlerts
from spotilla_procountor.app.credentials import ApiClient, CredentialCipher, CredentialsUnreadable
from spotilla_procountor.app.gateways import GatewayFactory, base_url_for
from spotilla_procountor.app.logs import run_context
from spotilla_procountor.app.observers import RunObserver
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.concurrency import StopRequest
from spotilla_procountor.domain.errors import IntegrationError
from spotilla_procountor.domain.invoicing import HELSINKI
from spotilla_procountor.domain.model import TransferPolicy
from spotilla_procountor.domain.ports import Clock, SpotillaRepository
from spotilla_procountor.domain.state import EntityKind, Event, Fence, RunFailure, RunStatus
from spotilla_procountor.domain.sync import SyncCycle, SyncReport
from spotilla_procountor.domain.sync_context import SyncOptions

log = logging.getLogger("spotilla_procountor.service")


@dataclass(frozen=True, slots=True)
class SanityLimits:
    """A tenant's own sanity limits; None keeps what was stored before (or the defaults of IntegrationSettings)."""

    quantity_ceiling: Decimal | None = None
    invoice_total_ceiling: Decimal | None = None
    completion_clock_skew_minutes: int | None = None

    def merged_over(self, existing: TenantConfig | None) -> dict[str, object]:
        names = ("quantity_ceiling", "invoice_total_ceiling", "completion_clock_skew_minutes")
        return {n: getattr(self, n) if getattr(self, n) is not None else getattr(existing, n, None) for n in names}


class TenantNotConfigured(LookupError):
    """The organization has not switched the integration on."""


class NoApiClient(TenantNotConfigured):
    """Neither the organization's own API client nor the service's (CLIENT_ID / CLIENT_SECRET) is there."""

    def __init__(self, organization_id: int) -> None:
        super().__init__(
            f"organization {organization_id} has no Procountor API client: set SPOTILLA_PROCOUNTOR_CLIENT_ID and "
            "SPOTILLA_PROCOUNTOR_CLIENT_SECRET (or their _FILE settings) to the integration's client, or give the "
            f"organization its own with `tenants enable {organization_id} --client-id … --client-secret-file …`"
        )


class TenantRefused(ValueError):
    """The tenant cannot be switched on as asked; the message says why and what to do."""


class CompanySwitchNeeded(TenantRefused):
    """The credentials log in to another Procountor company than the tenant's; a switch must be confirmed."""

    def __init__(self, message: str, *, bound_to: str, offered: str) -> None:
        super().__init__(message)
        self.bound_to, self.offered = bound_to, offered


class CompanyTaken(TenantRefused):
    """The credentials' Procountor company already serves another organization."""

    def __init__(self, message: str, *, company: str) -> None:
        super().__init__(message)
        self.company = company


class RunUnderWay(TenantRefused):
    """A company switch waits for the tenant's run under way to end."""


def compact_iban(text: str | None) -> str:
    """The organization's IBAN without spaces, checked (country format and check digits) with python-stdnum."""
    if not (text or "").strip():
        raise TenantRefused(
            "the organization's bank account (IBAN) is required (--bank-account): Procountor puts it on every invoice"
        )
    try:
        return iban.validate(text)
    except ValidationError as exc:
        raise TenantRefused(f"{text!r} is not a valid IBAN ({exc}); check the organization's bank account") from None


def helsinki_today() -> date:
    return datetime.now(HELSINKI).date()


def _company(config: TenantConfig) -> str:
    name, business_id = config.company_name or "company", config.company_business_id or "?"
    return f"{name} (business ID {business_id}, id {config.company_id})"


def _same_company(a: TenantConfig, b: TenantConfig) -> bool:
    """One Procountor company: the same server and the same company id."""
    return a.company_id == b.company_id and base_url_for(a.environment) == base_url_for(b.environment)


_SETTINGS_COMPARED = ("policy", "environment", "client_id", "bank_account", "tasks_completed_from", "company_id")


class TenantService:
    """Switches tenants on and off; credentials are verified with Procountor and stored encrypted.

    A tenant gives only its API key and uses the service's API client (`service_client`), unless it has an API
    client of its own (an override, stored with its secret encrypted). A tenant is bound to the Procountor company
    its credentials log in to: credentials of another company are refused unless the switch is confirmed, and one
    company serves one organization.
    """

    def __init__(
        self,
        *,
        state,
        cipher: CredentialCipher,
        gateways: GatewayFactory,
        service_client: ApiClient | None = None,
        today: Callable[[], date] = helsinki_today,
    ) -> None:
        self._state = state
        self._cipher = cipher
        self._gateways = gateways
        self._service_client = service_client
        self._today = today

    def enable(
        self,
        organization_id: int,
        api_key: str,
        *,
        client: ApiClient | None = None,
        environment: str = "test",
        policy: TransferPolicy = TransferPolicy.ALL_COMPLETED,
        bank_account: str | None = None,
        tasks_completed_from: date | None = None,
        switch_company: bool = False,
        limits: SanityLimits | None = None,
        verify: bool = True,
    ) -> TenantConfig:
        """Verifies the credentials and learns their company, then stores them encrypted and switches the tenant on.

        `api_key` is the organization's; `client` its own API client, if it has one instead of the service's.
        `tasks_completed_from` defaults to the start day stored before, or today (Helsinki) for a new tenant.
        A change of settings lets the items Procountor refused be tried again on the next run.
        """
        base_url_for(environment)  # a wrong environment is refused before anything is stored
        account = compact_iban(bank_account)
        credentials = self._credentials_to_store(organization_id, api_key, client)
        existing = self._state.settings_row(organization_id)
        config = TenantConfig(
            organization_id=organization_id,
            enabled=True,
            policy=policy,
            environment=environment,
            client_id=client.client_id if client else None,
            client_secret_enc=self._cipher.encrypt(client.client_secret) if client else None,
            api_key_enc=self._cipher.encrypt(credentials.api_key),
            bank_account=account,
            created_at=existing.created_at if existing else None,
            tasks_completed_from=self._start_day(existing, tasks_completed_from),
            **(limits or SanityLimits()).merged_over(existing),
        )
        config = self._bind_company(config, existing, credentials, verify=verify)
        checked_binding = verify and existing is not None and existing.company_id is not None
        if checked_binding and not _same_company(existing, config):  # type: ignore[arg-type]
            if not switch_company:
                raise CompanySwitchNeeded(
                    f"these credentials log in to Procountor {_company(config)}, but organization {organization_id} "
                    f"is bound to {_company(existing)}. To move it to the new company, repeat with --switch-company: "
                    "the old company's links and transfer records are kept as history and nothing more is sent there",
                    bound_to=_company(existing),  # type: ignore[arg-type]
                    offered=_company(config),
                )
            if tasks_completed_from is None:  # the past was invoiced in the old company: the new one starts today
                config = replace(config, tasks_completed_from=self._today())
            self._switch(existing, config)
            return config
        self._state.save_settings(config)
        if existing is not None and self._changed(existing, config, credentials):
            self._state.requeue(organization_id)
        return config

    def _credentials_to_store(self, organization_id: int, api_key: str, client: ApiClient | None) -> Credentials:
        if not api_key.strip():
            raise TenantRefused("the API key is empty; give the key the organization created in Procountor")
        if client is not None and not (client.client_id.strip() and client.client_secret.strip()):
            raise TenantRefused("the organization's own API client needs both a client id and a client secret")
        chosen = client or self._service_client
        if chosen is None:
            raise NoApiClient(organization_id)
        return Credentials(chosen.client_id, chosen.client_secret, api_key.strip())

    def _start_day(self, existing: TenantConfig | None, given: date | None) -> date | None:
        if given is not None:
            return given
        if existing is not None:  # set up before: keep its start day (none for tenants from before start days)
            return existing.tasks_completed_from
        return self._today()

    def _bind_company(
        self, config: TenantConfig, existing: TenantConfig | None, credentials: Credentials, *, verify: bool
    ) -> TenantConfig:
        """The company the credentials log in to, refused when another organization is bound to it."""
        if not verify:  # nothing asked of Procountor: the binding stays as it was
            kept = existing or config
            return replace(
                config,
                company_id=kept.company_id,
                company_name=kept.company_name,
                company_business_id=kept.company_business_id,
            )
        with self._gateways.gateway(
            environment=config.environment,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            api_key=credentials.api_key,
        ) as gateway:
            gateway.verify_credentials()
            company = gateway.company()
        bound = replace(
            config, company_id=company.id, company_name=company.name, company_business_id=company.business_id
        )
        taken = [
            other.organization_id
            for other in self._state.settings_rows()
            if other.organization_id != config.organization_id
            and other.company_id is not None
            and _same_company(other, bound)
        ]
        if taken:
            raise CompanyTaken(
                f"Procountor {_company(bound)} already serves organization {taken[0]}; one Procountor company "
                "serves one organization, so each organization needs an API key of its own company",
                company=_company(bound),
            )
        return bound

    def _switch(self, existing: TenantConfig, config: TenantConfig) -> None:
        """Moves the tenant to another company under its run lock: paused, old records archived, then switched on.

        Paused first, so a process that stops half-way leaves the tenant off rather than running with the old
        company's links; repeating the command finishes the switch.
        """
        organization_id = config.organization_id
        holder = holder_id()
        with self._state.run_lock(organization_id, holder) as fence:
            if fence is None:
                raise RunUnderWay(
                    f"a run of organization {organization_id} is under way; switch the company once it has finished"
                )
            self._state.save_settings(replace(existing, enabled=False))
            moved = self._state.archive_for_company_switch(organization_id, existing.company_id)
            self._state.save_settings(config)
        log.info(
            "organization switched Procountor company; %d records of the old company archived",
            moved,
            extra={"organization_id": organization_id},
        )

    def _changed(self, existing: TenantConfig, config: TenantConfig, credentials: Credentials) -> bool:
        if any(getattr(existing, name) != getattr(config, name) for name in _SETTINGS_COMPARED):
            return True
        try:
            return self.credentials(existing) != credentials
        except (TenantNotConfigured, ValueError):  # unreadable credentials (ValueError) are replaced
            return True

    def retry(
        self, organization_id: int, kind: EntityKind | None = None, spotilla_ids: Iterable[int] | None = None
    ) -> int:
        """Lets the next run try the refused and held-back items again (all, of a kind, or given ones)."""
        self.config(organization_id)
        return self._state.requeue(organization_id, kind, spotilla_ids)

    def disable(self, organization_id: int) -> None:
        config = self.config(organization_id)
        self._state.save_settings(replace(config, enabled=False))

    def list(self) -> list[TenantConfig]:
        return self._state.settings_rows()

    def credentials(self, config: TenantConfig) -> Credentials:
        """The tenant's API key with its own API client if it has one, else the service's.

        Raises TenantNotConfigured (NoApiClient when there is no client to use), CredentialsUnreadable when the
        configured keys cannot decrypt what is stored, MissingSecretKey or InvalidSecretKey for the keys themselves.
        """
        org = config.organization_id
        if not config.api_key_enc:
            raise TenantNotConfigured(f"organization {org} has no Procountor API key; use `tenants enable {org}`")
        if config.client_id and not config.client_secret_enc:
            raise TenantNotConfigured(f"organization {org}'s own API client has no secret; use `tenants enable {org}`")
        try:
            api_key = self._cipher.decrypt(config.api_key_enc)
            if config.client_id and config.client_secret_enc:
                return Credentials(config.client_id, self._cipher.decrypt(config.client_secret_enc), api_key)
        except CredentialsUnreadable:
            raise CredentialsUnreadable(_unreadable(org)) from None
        if self._service_client is None:
            raise NoApiClient(org)
        return Credentials(self._service_client.client_id, self._service_client.client_secret, api_key)

    def config(self, organization_id: int) -> TenantConfig:
        """The tenant's stored configuration; a clear error when it never switched the integration on."""
        found = self._state.settings_row(organization_id)
        if found is None:
            raise TenantNotConfigured(
                f"organization {organization_id} has not switched the integration on; "
                f"use `spotilla-procountor tenants enable {organization_id} …`"
            )
        return found


def _unreadable(organization_id: int) -> str:
    return (
        f"the stored credentials of organization {organization_id} cannot be decrypted with any key in "
        "SPOTILLA_PROCOUNTOR_SECRET_KEY (was the key replaced?): put the old key back after the new one, "
        "comma-separated, and run `tenants rotate-key`, or switch the organization on again "
        f"(`tenants enable {organization_id}`)"
    )


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
        if self._args[-1].is_set():  # asked to stop already: the run ends before its first item
            self.run_stop.set()
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
        alerts: RunAlerts | None = None,
        observer: RunObserver | None = None,
    ) -> None:
        self._settings = settings
        self._alerts = alerts
        self._observer = observer
        self._spotilla = spotilla
        self._state = state
        self._clock = clock
        self._gateways = gateways
        self._tenants = tenants
        self.stop = stop or threading.Event()
        self.on_event: Callable[[Event], None] | None = None

    def sync(self, organization_id: int, *, dry_run: bool = False) -> SyncReport:
        """One cycle of one tenant; skipped (not queued) when another process is running it."""
        if self._observer is None or dry_run:
            return self._sync(organization_id, dry_run=dry_run)
        started, report = time.monotonic(), SyncReport(organization_id, RunStatus.FAILED)  # if it raises
        try:
            report = self._sync(organization_id, dry_run=False)
            return report
        finally:
            self._observer.run_finished(report, time.monotonic() - started)

    def _sync(self, organization_id: int, *, dry_run: bool) -> SyncReport:
        if self.stop.is_set() and not dry_run:  # a run queued behind others when the service was asked to stop
            return SyncReport(
                organization_id, RunStatus.SKIPPED, error="the service is stopping; the next start runs it"
            )
        config = self._tenants.config(organization_id)
        if not config.enabled:
            return SyncReport(organization_id, RunStatus.SKIPPED, error="the integration is switched off")
        if dry_run:  # a dry run writes nothing, not even a lock
            return self._cycle(config, dry_run=True, stop=self.stop)
        backed_off = self._alerts.backed_off(config) if self._alerts is not None else None
        if backed_off is not None:  # its credentials were refused: Procountor is not asked until they may work
            return backed_off
        holder, ttl = holder_id(), self._settings.lock_ttl_s
        with self._state.run_lock(organization_id, holder, ttl) as fence:
            if fence is None:
                log.info(
                    "run skipped: another run of this organization is in progress",
                    extra={"organization_id": organization_id},
                )
                return SyncReport(organization_id, RunStatus.SKIPPED, error="another run is in progress")
            with _LeaseKeeper(self._state, organization_id, holder, ttl, self.stop) as run_stop:
                report = self._cycle(config, dry_run=False, stop=run_stop, fence=fence)
            if self._alerts is not None:  # under the lock: no run of the tenant changes what the alerts read
                self._alerts.after_run(config, report)
            return report

    def _cycle(
        self, config: TenantConfig, *, dry_run: bool, stop: threading.Event, fence: Fence | None = None
    ) -> SyncReport:
        try:
            credentials = self._tenants.credentials(config)
        except (TenantNotConfigured, ValueError) as exc:  # ValueError: unreadable credentials, an invalid key
            return self._unusable_credentials(config.organization_id, str(exc), dry_run=dry_run)
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

    def _unusable_credentials(self, organization_id: int, error: str, *, dry_run: bool) -> SyncReport:
        """A run that cannot begin, for its credentials cannot be used: FAILED in the run log (so that `status` does
        not go on showing the last good run) and logged at ERROR. A dry run records nothing."""
        run_id = None
        if not dry_run:
            run_id = self._state.start_run(organization_id)
            self._state.finish_run(run_id, RunStatus.FAILED, {}, error)
        failure = RunFailure.CREDENTIALS_UNREADABLE
        with run_context(organization_id=organization_id, run_id=run_id or 0):
            log.error("run finished", extra={"status": str(RunStatus.FAILED), "failure": str(failure), "error": error})
        return SyncReport(organization_id, RunStatus.FAILED, run_id, error=error, dry_run=dry_run, failure=failure)

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

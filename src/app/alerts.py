"""Alerts around a tenant's run: before it, the credential back-off; after it, the mails its outcome calls for.

Every condition is mailed once: the decision is the domain's (`alert_rules`), the state lives in the database and
is claimed atomically before sending (`SqlAlertStore.claim`), so restarts and several processes do not repeat a
mail. A mail that cannot be sent is logged at ERROR and left unsent, for a later run; it never breaks the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from hashlib import sha256

from spotilla_procountor.adapters.smtp import LoggedMailer, SmtpMailer
from spotilla_procountor.adapters.spotilla_sql.alert_store import SqlAlertStore
from spotilla_procountor.adapters.spotilla_sql.tenant_config import TenantConfig
from spotilla_procountor.app.credentials import ApiClient, CredentialCipher
from spotilla_procountor.app.logs import mask
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain import alert_rules
from spotilla_procountor.domain.alerts import (
    AlertMail,
    AlertPolicy,
    AlertState,
    Audience,
    Condition,
    Mailer,
    MailNotSent,
    Refusals,
    RunStreaks,
    TenantLabel,
)
from spotilla_procountor.domain.invoicing import HELSINKI
from spotilla_procountor.domain.ports import Clock
from spotilla_procountor.domain.state import EntityKind, Record, RecordState, RunFailure, RunStatus
from spotilla_procountor.domain.sync import SyncReport

log = logging.getLogger("spotilla_procountor.alerts")

_DID_ITS_WORK = (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
_NOBODY = "no one to send it to: set ALERT_OPERATORS, or `spotilla-procountor tenants notify {org} --email ADDRESS`"


def credentials_fingerprint(config: TenantConfig, service_client: ApiClient | None = None) -> str:
    """A digest of where and with what the tenant logs in: its environment, client, and *encrypted* secrets.

    A tenant on the integration's own API client (no client of its own) logs in with CLIENT_ID / CLIENT_SECRET, so
    they are part of it: an operator who fixes those lets a backed-off tenant try at once. Only a 64-bit digest of
    everything together is stored, never a secret. Storing the credentials again (`tenants enable`) changes it,
    even with the same API key (the encryption is randomized), and so does a re-encryption with a new SECRET_KEY:
    either lets a backed-off tenant try at once, which costs at most one extra try.
    """
    client = (config.client_id, config.client_secret_enc or "") if config.client_id else _service_parts(service_client)
    parts = (config.environment, *client, config.api_key_enc or "")
    return sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _service_parts(client: ApiClient | None) -> tuple[str, str]:
    if client is None:
        return "", ""
    return client.client_id, sha256(client.client_secret.encode()).hexdigest()


class RunAlerts:
    """The hook `SyncService.sync` calls: `backed_off` before a tenant's run, `after_run` after it."""

    def __init__(
        self,
        *,
        store: SqlAlertStore,
        state,
        mailer: Mailer,
        cipher: CredentialCipher,
        clock: Clock,
        policy: AlertPolicy,
        operators: Sequence[str] = (),
        operators_get_all: bool = False,
        claim_lease: timedelta = timedelta(minutes=5),
        service_client: ApiClient | None = None,
    ) -> None:
        self._service_client = service_client
        self._store, self._state, self._mailer, self._cipher, self._clock = store, state, mailer, cipher, clock
        self._policy, self._operators, self._operators_get_all = policy, tuple(operators), operators_get_all
        self._claim_lease = claim_lease

    # -- before a run: the back-off ------------------------------------------------------------------------

    def backed_off(self, config: TenantConfig) -> SyncReport | None:
        """A SKIPPED report while the tenant backs off after its credentials were refused; None: run as usual.

        While backed off, a credentials alert that is due (the daily reminder, or a first mail a mail server
        failure kept back) is sent from here, since no run reaches Procountor.
        """
        refusals = self._store.streaks(config.organization_id).refusals
        reason = self._backoff_reason(config, refusals)
        if refusals is None or reason is None:
            return None
        self._guarded(lambda: self._mail_refusals(config, refusals))
        log.warning("run skipped: %s", reason, extra={"organization_id": config.organization_id})
        return SyncReport(
            config.organization_id, RunStatus.SKIPPED, error=reason, failure=RunFailure.CREDENTIALS_REFUSED
        )

    def backoff_reason(self, config: TenantConfig) -> str | None:
        """Why the tenant is not run now and when it is tried next, for `status`; None when it is not backed off."""
        return self._backoff_reason(config, self._store.streaks(config.organization_id).refusals)

    def _backoff_reason(self, config: TenantConfig, refusals: Refusals | None) -> str | None:
        until = alert_rules.backoff_until(refusals, credentials_fingerprint(config, self._service_client), self._policy)
        if refusals is None or until is None or self._clock.now() >= until:
            return None
        return (
            f"backing off: Procountor refused the tenant's credentials {refusals.count} times in a row (last at "
            f"{_local(refusals.last_at)}); the next try is at {_local(until)} (Finnish time), or at once after "
            f"`spotilla-procountor tenants enable {config.organization_id}` stores a new API key"
        )

    # -- after a run: the mails --------------------------------------------------------------------------

    def after_run(self, config: TenantConfig, report: SyncReport) -> None:
        """Counts the run into the tenant's streaks and mails what they and its items call for; never raises."""
        if report.dry_run or report.status in (RunStatus.SKIPPED, RunStatus.RUNNING):
            return
        try:
            streaks = self._count(config, report)
        except Exception:  # the mails below still go out; the streaks are counted again by the next run
            log.exception("the run could not be counted for alerts and back-off; the run is not affected")
            streaks = None
        if streaks is not None:
            self._guarded(lambda: self._credentials(config, report, streaks))
            self._guarded(lambda: self._runs_failed(config, report, streaks))
        self._guarded(lambda: self._items_failed(config))
        self._guarded(lambda: self._held_back(config))

    def _count(self, config: TenantConfig, report: SyncReport) -> RunStreaks:
        org = config.organization_id
        before = self._store.streaks(org)
        after = alert_rules.streaks_after(
            before, report, credentials_fingerprint(config, self._service_client), self._clock.now()
        )
        if after != before:
            self._store.save_streaks(org, after)
        if after.refusals is not None and after.refusals != before.refusals:
            reason = self._backoff_reason(config, after.refusals)
            if reason:
                log.warning("tenant %s", reason, extra={"organization_id": org})
        return after

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:  # an alert must never break the run it follows
            log.exception("alerts could not be evaluated; the run is not affected and the next run tries again")

    def _credentials(self, config: TenantConfig, report: SyncReport, streaks: RunStreaks) -> None:
        if report.failure == RunFailure.CREDENTIALS_REFUSED:
            self._mail_refusals(config, streaks.refusals)
        elif report.status in _DID_ITS_WORK:
            seen = self._store.alert_state(config.organization_id, Condition.CREDENTIALS_REFUSED)
            self._deliver(config, alert_rules.credentials_working(_label(config), seen), seen)

    def _mail_refusals(self, config: TenantConfig, refusals: Refusals | None) -> None:
        seen = self._store.alert_state(config.organization_id, Condition.CREDENTIALS_REFUSED)
        mail = alert_rules.credentials_refused(_label(config), refusals, seen, self._clock.now(), self._policy)
        self._deliver(config, mail, seen)

    def _runs_failed(self, config: TenantConfig, report: SyncReport, streaks: RunStreaks) -> None:
        if report.status != RunStatus.FAILED:
            return
        seen = self._store.alert_state(config.organization_id, Condition.RUNS_FAILED)
        mail = alert_rules.runs_failed(_label(config), streaks.failed, report.failure, seen, self._policy)
        self._deliver(config, mail, seen)

    def _items_failed(self, config: TenantConfig) -> None:
        seen = self._store.alert_state(config.organization_id, Condition.ITEMS_FAILED)
        failed = self._records(config.organization_id, RecordState.FAILED)
        self._deliver(
            config, alert_rules.items_failed(_label(config), failed, seen, self._clock.now(), self._policy), seen
        )

    def _held_back(self, config: TenantConfig) -> None:
        seen = self._store.alert_state(config.organization_id, Condition.HELD_BACK)
        held = self._records(config.organization_id, RecordState.HELD_BACK)
        self._deliver(config, alert_rules.held_back(_label(config), held, seen, self._clock.now(), self._policy), seen)

    def _records(self, organization_id: int, state: RecordState) -> Iterator[Record]:
        """Read only when iterated: a digest that is not due yet asks the database nothing."""
        for kind in EntityKind:
            yield from self._state.records(organization_id, kind, states=[state]).values()

    # -- sending once --------------------------------------------------------------------------------------

    def _deliver(self, config: TenantConfig, mail: AlertMail | None, seen: AlertState) -> None:
        """Claims the condition, sends, and records it as sent; a mail that did not go out is left unsent."""
        if mail is None:
            return
        org = config.organization_id
        token = self._store.claim(org, mail.condition, seen, self._claim_lease)
        if token is None:  # another process sends it, or has sent it since this one looked
            return
        fields = {"organization_id": org, "condition": str(mail.condition)}
        recipients = self._recipients(org, mail.audiences)
        mailer = self._mailer if recipients else LoggedMailer(_NOBODY.format(org=org))
        try:
            mailer.send(self._without_secrets(mail, config), recipients)
        except MailNotSent as exc:
            self._store.release(org, mail.condition, token)
            log.error("alert mail not sent; a later run tries again: %s", exc, extra=fields)
            return
        except BaseException:
            self._store.release(org, mail.condition, token)
            raise
        self._store.sent(org, mail.condition, token, mail.fingerprint, self._clock.now())
        log.info("alert mailed: %s", mail.subject, extra={**fields, "recipients": len(recipients)})

    def _recipients(self, organization_id: int, audiences: frozenset[Audience]) -> list[str]:
        """The tenant's admins and/or the operators; a mail for admins that has none goes to the operators."""
        admins = self._store.admin_emails().get(organization_id, ())
        chosen = list(admins) if Audience.ADMINS in audiences else []
        if Audience.OPERATORS in audiences or self._operators_get_all or not chosen:
            chosen += [address for address in self._operators if address not in chosen]
        return chosen

    def _without_secrets(self, mail: AlertMail, config: TenantConfig) -> AlertMail:
        """Belt and braces: the tenant's secrets, in clear or encrypted, and anything that looks like one, masked."""
        secrets = [s for s in (config.client_secret_enc, config.api_key_enc) if s]
        for encrypted in list(secrets):
            try:
                secrets.append(self._cipher.decrypt(encrypted))
            except Exception:  # noqa: S112 - unreadable with this key: then it cannot be in the text either
                continue
        if self._service_client is not None:
            secrets.append(self._service_client.client_secret)
        subject, body = mail.subject, mail.body
        for secret in (s for s in secrets if len(s) >= 4):
            subject, body = subject.replace(secret, "***"), body.replace(secret, "***")
        return replace(mail, subject=mask(subject), body=mask(body))


def _label(config: TenantConfig) -> TenantLabel:
    return TenantLabel(config.organization_id, config.company_name)


def _local(moment: datetime) -> str:
    return moment.astimezone(HELSINKI).strftime("%Y-%m-%d %H:%M")


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when a mail server is set; else every alert goes to the log at WARNING, so none is silent."""
    if not settings.smtp_host:
        return LoggedMailer()
    default_port = {"ssl": 465, "starttls": 587, "none": 25}[settings.smtp_tls]
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port or default_port,
        tls=settings.smtp_tls,
        sender=settings.smtp_from or "",
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout_s=settings.smtp_timeout_s,
    )


def alert_policy(settings: Settings) -> AlertPolicy:
    return AlertPolicy(
        failed_runs=settings.alert_failed_runs,
        held_back_days=settings.alert_held_back_days,
        refusals_before_backoff=settings.credential_backoff_after,
        backoff=timedelta(minutes=settings.credential_backoff_minutes),
    )


def run_alerts(
    *,
    settings: Settings,
    store: SqlAlertStore,
    state,
    mailer: Mailer,
    cipher,
    clock: Clock,
    service_client: ApiClient | None = None,
) -> RunAlerts:
    """The alerts as the settings ask for them."""
    return RunAlerts(
        service_client=service_client,
        store=store,
        state=state,
        mailer=mailer,
        cipher=cipher,
        clock=clock,
        policy=alert_policy(settings),
        operators=settings.operator_addresses,
        operators_get_all=settings.alert_operators_get_all,
    )

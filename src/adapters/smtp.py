"""Alert mails out: over SMTP with the standard library, or, with no mail server set, into the log at WARNING."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from spotilla_procountor.domain.alerts import AlertMail, MailNotSent

log = logging.getLogger("spotilla_procountor.alerts")

TlsMode = Literal["none", "starttls", "ssl"]


class SmtpMailer:
    """Sends each alert as one plain-text mail: TLS from the first byte (`ssl`), upgraded (`starttls`) or none.

    Refuses to log in over a connection without TLS, so a password never crosses the network in clear.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: TlsMode,
        sender: str,
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if user and tls == "none":
            raise ValueError("SMTP_USER is set but SMTP_TLS is none: the password would cross the network in clear")
        self._host, self._port, self._tls = host, port, tls
        self._sender, self._user, self._password = sender, user, password
        self._timeout_s = timeout_s
        self._context = ssl_context

    def send(self, mail: AlertMail, recipients: Sequence[str]) -> None:
        """Hands the mail to the server; `MailNotSent` when it cannot be reached or refuses it."""
        message = self._message(mail, recipients)
        try:
            with self._connect() as smtp:
                if self._tls == "starttls":
                    smtp.starttls(context=self._tls_context())
                if self._user:
                    smtp.login(self._user, self._password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailNotSent(f"the mail server {self._host}:{self._port} did not take the mail: {exc}") from exc

    def _connect(self) -> smtplib.SMTP:
        if self._tls == "ssl":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout_s, context=self._tls_context())
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)

    def _tls_context(self) -> ssl.SSLContext:
        return self._context or ssl.create_default_context()

    def _message(self, mail: AlertMail, recipients: Sequence[str]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = mail.subject
        message["From"] = self._sender
        message["To"] = ", ".join(recipients)
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office answers to an alert
        message.set_content(mail.body)
        return message

    def __repr__(self) -> str:
        return f"SmtpMailer({self._host}:{self._port}, tls={self._tls}, user={self._user!r}, password=***)"


class LoggedMailer:
    """No mail server is set (or no one to send to): each alert is written to the log at WARNING instead."""

    def __init__(self, why: str = "no SMTP_HOST is set") -> None:
        self._why = why

    def send(self, mail: AlertMail, recipients: Sequence[str]) -> None:
        log.warning(
            "alert not mailed (%s); it would have said:\n%s\n\n%s",
            self._why,
            mail.subject,
            mail.body,
            extra={"condition": str(mail.condition), "to": ", ".join(recipients) or "nobody"},
        )

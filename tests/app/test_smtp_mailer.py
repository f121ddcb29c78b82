"""The SMTP adapter against a real mail server (aiosmtpd): TLS as asked for, a login, and failures it names."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtputil import MailSink, password_check, self_signed_context
from spotilla_procountor.adapters.smtp import SmtpMailer
from spotilla_procountor.domain.alerts import AUDIENCES, AlertMail, Condition, MailNotSent

pytestmark = pytest.mark.loopback
MAIL = AlertMail(
    Condition.ITEMS_FAILED,
    "fp",
    "Spotilla–Procountor, organization 1 (Kävijä Oy): 1 item(s) refused by Procountor",
    "WHAT HAPPENED\nTehtävä 12 hylättiin.\n",
    AUDIENCES[Condition.ITEMS_FAILED],
)
USER, PASSWORD = "alerts@spotilla.fi", "smtp-password-8c1d"


@pytest.fixture
def contexts(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return self_signed_context(tmp_path)


@pytest.fixture
def starttls_server(contexts) -> Iterator[MailSink]:
    server_context, _client = contexts
    with MailSink(
        tls_context=server_context, require_starttls=True, authenticator=password_check(USER, PASSWORD)
    ) as sink:
        yield sink


def _mailer(sink: MailSink, client: ssl.SSLContext | None, **options) -> SmtpMailer:
    settings = {"tls": "starttls", "user": USER, "password": PASSWORD} | options
    sender = "integraatio@spotilla.fi"
    return SmtpMailer(host="127.0.0.1", port=sink.port, sender=sender, ssl_context=client, **settings)


def test_a_mail_goes_out_over_starttls_after_logging_in_as_plain_text(starttls_server: MailSink, contexts) -> None:
    _mailer(starttls_server, contexts[1]).send(MAIL, ["anna@putki.fi", "ops@integraattori.fi"])

    [mail] = starttls_server.wait_for(1)
    assert mail.tls and mail.login == USER
    assert mail.recipients == ["anna@putki.fi", "ops@integraattori.fi"] and mail.sender == "integraatio@spotilla.fi"
    assert mail.subject == MAIL.subject and mail.body == MAIL.body
    assert mail.message.get_content_type() == "text/plain" and mail.message["Auto-Submitted"] == "auto-generated"
    assert PASSWORD not in mail.text()


def test_a_mail_goes_out_over_tls_from_the_first_byte(contexts) -> None:
    server_context, client_context = contexts
    with MailSink(ssl_context=server_context) as sink:
        SmtpMailer(
            host="127.0.0.1", port=sink.port, tls="ssl", sender="integraatio@spotilla.fi", ssl_context=client_context
        ).send(MAIL, ["anna@putki.fi"])
        [mail] = sink.wait_for(1)
    assert mail.tls and mail.body == MAIL.body


def test_a_refused_login_is_a_mail_not_sent_naming_the_server_not_the_password(
    starttls_server: MailSink, contexts
) -> None:
    with pytest.raises(MailNotSent, match=f"127.0.0.1:{starttls_server.port}") as refused:
        _mailer(starttls_server, contexts[1], password="wrong-password-1f").send(MAIL, ["anna@putki.fi"])
    assert "wrong-password-1f" not in str(refused.value)
    assert starttls_server.mails == []


def test_a_server_certificate_nobody_vouches_for_is_refused(starttls_server: MailSink) -> None:
    with pytest.raises(MailNotSent, match="certificate"):
        _mailer(starttls_server, None).send(MAIL, ["anna@putki.fi"])  # the system's CAs do not know it
    assert starttls_server.mails == []


def test_no_server_listening_is_a_mail_not_sent() -> None:
    sink = MailSink()  # never started: its port is closed
    with pytest.raises(MailNotSent, match="did not take the mail"):
        SmtpMailer(host="127.0.0.1", port=sink.port, tls="none", sender="a@spotilla.fi").send(MAIL, ["b@putki.fi"])


def test_a_login_without_tls_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="in clear"):
        SmtpMailer(host="127.0.0.1", port=25, tls="none", sender="a@spotilla.fi", user=USER, password=PASSWORD)

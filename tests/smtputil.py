"""A real SMTP server on loopback (aiosmtpd) that keeps every mail it is handed, for the alert tests."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class CaughtMail:
    """One mail as the server received it: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    raw: bytes
    message: EmailMessage
    tls: bool = False
    """The mail came over TLS (STARTTLS or TLS from the start)."""
    login: str | None = None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_content().replace("\r\n", "\n")

    def text(self) -> str:
        """Everything a reader could see: every header (decoded), the body (decoded) and the raw bytes."""
        headers = "\n".join(f"{name}: {value}" for name, value in self.message.items())
        return f"{headers}\n\n{self.body}\n\n{self.raw.decode('utf-8', 'replace')}"


class _Keep:
    def __init__(self) -> None:
        self.mails: list[CaughtMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        caught = CaughtMail(envelope.mail_from, list(envelope.rcpt_tos), raw, message, tls, login)
        with self.lock:
            self.mails.append(caught)
        return "250 Message accepted for delivery"


def password_check(user: str, password: str):
    """An aiosmtpd authenticator that lets in `user` with `password` and nobody else."""

    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

    return check


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailSink:
    """An SMTP server on 127.0.0.1:`port`, started and stopped at will (the port is kept, as a restarted server's)."""

    def __init__(self, port: int | None = None, **controller_options: object) -> None:
        self.port = port or free_port()
        self._keep = _Keep()
        self._options = controller_options
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        self._controller = Controller(self._keep, hostname="127.0.0.1", port=self.port, **self._options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def mails(self) -> list[CaughtMail]:
        with self._keep.lock:
            return list(self._keep.mails)

    def wait_for(self, count: int, seconds: float = 10) -> list[CaughtMail]:
        deadline = time.monotonic() + seconds
        while len(self.mails) < count:
            assert time.monotonic() < deadline, f"{len(self.mails)} mail(s) arrived, {count} expected"
            time.sleep(0.05)
        return self.mails

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def self_signed_context(tmp_dir) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for 127.0.0.1, with a certificate made here."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_dir / "smtp.crt", tmp_dir / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client

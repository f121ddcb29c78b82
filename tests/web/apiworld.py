"""The world of the JSON API tests: the app served over real HTTP on loopback, a real database, the fake Procountor
served on loopback, and Spotilla's signed tokens (imported by the tests; no conftest of its own)."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from prometheus_client import CollectorRegistry

from dbutil import postgres_engine
from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.adapters.web.app import create_app
from spotilla_procountor.adapters.web.auth import SESSION_COOKIE, Role, Session, Tokens
from spotilla_procountor.adapters.web.server import BackgroundServer
from spotilla_procountor.app.admin import IntegrationAdmin
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.settings import Settings

# Canaries: none of them may appear in any answer of the API.
JWT_SECRET = "canary-jwt-secret-7d1c5a3e9b2f4068a1c3e5d7f9b1a3c5"
CLIENT_ID = "api-client"
CLIENT_SECRET = "canary-client-secret-2e8a41"
API_KEY = "canary-api-key-5f90c3"
IBAN = "FI4950009420028730"
PATH_SAMPLES = {"organization_id": 2, "kind": "task", "spotilla_id": 1, "run_id": 1}
"""A value for every path parameter of the API; a new parameter without one fails the tests that go over routes."""


class Ready:
    def reasons(self) -> list[str]:
        return []


@dataclass
class ApiWorld:
    """A served app and what stands behind it."""

    url: str
    container: Container
    tokens: Tokens
    fake: FakeProcountor
    procountor_url: str

    def token(self, organization_id: int = 1, role: Role = Role.ADMIN, subject: str = "anna@yritys.fi") -> str:
        return self.tokens.issue(subject=subject, organization_id=organization_id, role=role)

    def client(self, token: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def admin(self, organization_id: int = 1) -> httpx.Client:
        return self.client(self.token(organization_id, Role.ADMIN))

    def operator(self) -> httpx.Client:
        return self.client(self.token(1, Role.OPERATOR, "operator@spotilla.fi"))

    def session(self, organization_id: int = 1, role: Role = Role.ADMIN) -> tuple[httpx.Client, Session]:
        """A client carrying a page session's cookie (as `/launch` sets it), and that session (its CSRF value)."""
        session = self.tokens.start_session(self.tokens.verify(self.token(organization_id, role)))
        return self.client(cookies={SESSION_COOKIE: session.cookie}), session


def settings_for(database_url: str, *, jwt_secret: str | None = JWT_SECRET) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=new_key(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        web_jwt_secret=jwt_secret,
        http_host="127.0.0.1",
        http_port=0,
        _env_file=None,
        secret_key_file=None,
        client_id_file=None,
        client_secret_file=None,
        web_jwt_secret_file=None,
    )


@contextmanager
def served_api(database_url: str, *, jwt_secret: str | None = JWT_SECRET) -> Iterator[ApiWorld]:
    """The API over a migrated database at `database_url`, with the fake Procountor served beside it."""
    settings = settings_for(database_url, jwt_secret=jwt_secret)
    container = build_container(settings)
    upgrade_database(container.engine())
    tokens = Tokens(jwt_secret) if jwt_secret else None
    fake = FakeProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY)
    app = create_app(readiness=Ready(), registry=CollectorRegistry(), admin=IntegrationAdmin, tokens=lambda: tokens)
    server = BackgroundServer(app, host="127.0.0.1", port=0)
    with fake.serve() as procountor:
        server.start()
        try:
            yield ApiWorld(
                f"http://127.0.0.1:{server.port}", container, tokens or Tokens(JWT_SECRET), fake, procountor.url
            )
        finally:
            server.stop()
            container.engine().dispose()


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'spotilla.sqlite3'}"


# -- tokens as others might make them ------------------------------------------------------------------------------


def claims(**changes: object) -> dict:
    """Claims of a valid admin token of organization 1; a change of None leaves the claim out."""
    now = datetime.now(UTC)
    base = {"sub": "anna@yritys.fi", "org": 1, "role": "admin", "iat": now, "exp": now + timedelta(minutes=15)}
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def unsigned(payload: dict) -> str:
    """A token with `alg: none` and no signature, the classic forgery."""

    def part(data: dict) -> str:
        text = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(text).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def signed(payload: dict, key: object = JWT_SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():  # HS512 with the shared secret: a short key for it, and refused anyway
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(payload, key, algorithm=algorithm)  # type: ignore[arg-type]


# -- fixtures (imported by the test modules) ------------------------------------------------------------------------

BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@contextmanager
def database_url(backend: str, folder: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in `folder`, or a PostgreSQL schema of its own (dropped afterwards)."""
    if backend == "sqlite":
        yield sqlite_url(folder)
        return
    with postgres_engine() as engine:
        yield engine.url.render_as_string(hide_password=False)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiWorld]:
    """The API over SQLite."""
    with served_api(sqlite_url(tmp_path)) as world:
        yield world


@pytest.fixture(params=BACKENDS)
def api_on_each_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApiWorld]:
    """The API over SQLite, then over PostgreSQL."""
    with database_url(request.param, tmp_path) as url, served_api(url) as world:
        yield world


def api_operations(world: ApiWorld) -> list[tuple[str, str]]:
    """(method, path template) of every `/api/v1` operation, read from the served OpenAPI document."""
    document = httpx.get(f"{world.url}/openapi.json", timeout=10).json()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    ]


def concrete(path: str, **values: object) -> str:
    """The path with every parameter filled from `values`, else from PATH_SAMPLES; an unknown one fails."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    unknown = [name for name in names if name not in values and name not in PATH_SAMPLES]
    assert not unknown, f"no sample value for the path parameter(s) {unknown} of {path}: add them to PATH_SAMPLES"
    return path.format(**{**PATH_SAMPLES, **values})

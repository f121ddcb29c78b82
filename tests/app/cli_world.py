"""The world of the command-line tests: a real SQLite file and the fake Procountor served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.app.credentials import new_key

SECRET = "canary-secret-5b1f0e"
API_KEY = "canary-apikey-93c2aa"


@pytest.fixture
def procountor() -> Iterator[tuple[FakeProcountor, str]]:
    fake = FakeProcountor(client_id="cli-client", client_secret=SECRET, api_key=API_KEY)
    with fake.serve() as served:
        yield fake, served.url


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "spotilla.sqlite3"
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_SECRET_KEY", new_key())
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_CLIENT_ID", "cli-client")  # the integration's own API client
    (tmp_path / "client-secret").write_text(SECRET + "\n")
    monkeypatch.setenv("SPOTILLA_PROCOUNTOR_CLIENT_SECRET_FILE", str(tmp_path / "client-secret"))
    monkeypatch.setenv("COLUMNS", "200")  # tables are not folded, so words can be looked for
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return database

"""Alerts as operators meet them: `spotilla-procountor` processes on one PostgreSQL database, a real SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alertworld import ADMIN, NEW_API_KEY, OPERATOR, ORG, World, alert_world
from spotilla_procountor.app.cli import app
from spotilla_procountor.domain.state import RunFailure, RunStatus

pytestmark = [pytest.mark.postgres, pytest.mark.loopback, pytest.mark.slow]
SECOND_ADMIN = "ville.virtanen@putkiliike.fi"
CLI = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with alert_world("postgres", tmp_path) as built:
        yield built


def _env(world: World) -> dict[str, str]:
    settings = world.settings
    return {
        **os.environ,
        "COLUMNS": "250",
        "SPOTILLA_PROCOUNTOR_DATABASE_URL": settings.database_url,
        "SPOTILLA_PROCOUNTOR_SECRET_KEY": settings.secret_key.get_secret_value(),  # type: ignore[union-attr]
        "SPOTILLA_PROCOUNTOR_CLIENT_ID": settings.client_id or "",
        "SPOTILLA_PROCOUNTOR_CLIENT_SECRET": settings.client_secret.get_secret_value(),  # type: ignore[union-attr]
        "SPOTILLA_PROCOUNTOR_SMTP_HOST": "127.0.0.1",
        "SPOTILLA_PROCOUNTOR_SMTP_PORT": str(world.sink.port),
        "SPOTILLA_PROCOUNTOR_SMTP_TLS": "none",
        "SPOTILLA_PROCOUNTOR_SMTP_FROM": "integraatio@spotilla.fi",
        "SPOTILLA_PROCOUNTOR_ALERT_OPERATORS": OPERATOR,
    }


def _cli(world: World, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=_env(world), cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def _in_process(world: World, *args: str) -> str:
    """A quick command in this process (the `sync`s, whose processes matter here, run as their own)."""
    result = CliRunner().invoke(app, list(args), env=_env(world))
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_a_revoked_api_key_gives_exactly_one_mail_without_a_secret_and_sync_stops_asking_procountor(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    _in_process(world, "tenants", "notify", str(ORG), "--email", ADMIN, "--email", SECOND_ADMIN)
    assert f"{ADMIN}, {SECOND_ADMIN}" in _in_process(world, "tenants", "list")
    assert world.sync().status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)

    world.restart_procountor(api_key=NEW_API_KEY)  # the organization revoked the key; Procountor answers 401
    refused = [_cli(world, "sync", cwd=tmp_path) for _ in range(2)]
    asked = world.requests()
    backed_off = [_cli(world, "sync", cwd=tmp_path)]

    assert [r.returncode for r in refused] == [1, 1]
    assert all("refused the tenant's credentials" in r.stdout for r in refused)
    assert all("backing off" in r.stdout and f"tenants enable {ORG}" in r.stdout for r in backed_off)
    assert [r.returncode for r in backed_off] == [1], "a backed-off tenant is not a success"
    assert world.requests() == asked, "a backed-off sync asked Procountor"
    assert "Not run now, backing off" in _in_process(world, "status")

    time.sleep(0.5)  # a mail that should not have been sent would have arrived by now
    [mail] = world.sink.mails
    assert sorted(mail.recipients) == sorted([ADMIN, SECOND_ADMIN, OPERATOR])
    assert "organization 1" in mail.subject and "refuses the credentials" in mail.subject
    text = mail.text()
    for secret in world.secrets():
        assert secret not in text
    output = "".join(r.stdout + r.stderr for r in [*refused, *backed_off])
    for secret in world.secrets():
        assert secret not in output


_RACE = """
import pathlib, sys, time
from spotilla_procountor.app.container import build_container
container = build_container()
service = container.sync_service()
container.engine().connect().close()
pathlib.Path(sys.argv[2]).touch()
while not pathlib.Path(sys.argv[1]).exists():
    time.sleep(0.001)
print(service.sync(int(sys.argv[3])).status)
"""


def test_processes_deciding_on_the_same_alert_at_the_same_moment_send_one_mail(world: World, tmp_path: Path) -> None:
    world.sync()
    world.sink.stop()  # the refusal mail cannot go out: the condition stays unsent, due for whoever comes next
    world.restart_procountor(api_key=NEW_API_KEY)
    assert [world.sync().failure for _ in range(2)] == [RunFailure.CREDENTIALS_REFUSED] * 2
    world.sink.start()

    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, str(go), str(tmp_path / f"ready-{n}"), str(ORG)],
            env=_env(world),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(3)
    ]
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("ready-*"))) < len(processes):
        assert time.monotonic() < deadline, "the processes did not get ready"
        time.sleep(0.01)
    go.touch()  # all three decide now: the tenant is backed off and its refusal mail is due
    outputs = [p.communicate(timeout=60)[0] for p in processes]

    assert all(p.returncode == 0 for p in processes), outputs
    assert all(out.strip().endswith(str(RunStatus.SKIPPED)) for out in outputs), outputs
    time.sleep(0.5)
    assert len(world.sink.mails) == 1

"""`tenants enable` takes only the organization's API key, and never as an option's value: from a file, from
standard input, or at a prompt that does not echo it. Real processes on a SQLite file, a fake Procountor on loopback.
"""

from __future__ import annotations

import os
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.app.credentials import new_key

pytestmark = pytest.mark.loopback

CLIENT_ID, CLIENT_SECRET = "integration-client", "integration-secret-4be1"
API_KEY = "org-apikey-canary-90d2c7"
CLI = [sys.executable, "-c", "from spotilla_procountor.app.cli import main; main()"]
# On a terminal the child makes it its controlling one, as a login shell has it, so that the hidden prompt can
# switch its echo off (the parent is no session leader to pass one on).
ON_A_TERMINAL = [
    sys.executable,
    "-c",
    "import fcntl, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); from spotilla_procountor.app.cli import main; main()",
]


class Operator:
    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.url = folder, url
        self.database = folder / "spotilla.sqlite3"
        upgrade_database(f"sqlite:///{self.database}")
        with sqlite3.connect(self.database) as conn:
            conn.execute("INSERT INTO organizations (id, name) VALUES (1, 'Avain Oy')")
        self.env = {
            **os.environ,
            "SPOTILLA_PROCOUNTOR_DATABASE_URL": f"sqlite:///{self.database}",
            "SPOTILLA_PROCOUNTOR_SECRET_KEY": new_key(),
            "SPOTILLA_PROCOUNTOR_CLIENT_ID": CLIENT_ID,
            "SPOTILLA_PROCOUNTOR_CLIENT_SECRET": CLIENT_SECRET,
            "COLUMNS": "200",
        }

    def enable_args(self, *extra: str) -> list[str]:
        return ["tenants", "enable", "1", "--environment", self.url, "--bank-account", "FI4950009420028730", *extra]

    def run(self, *args: str, stdin: str | None = "", **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args],
            input=stdin,
            env=self.env | env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def stored(self) -> list[tuple]:
        with sqlite3.connect(self.database) as conn:
            return conn.execute(
                "SELECT organization_id, client_id, client_secret_enc FROM procountor_settings"
            ).fetchall()


@pytest.fixture
def procountor() -> Iterator[tuple[FakeProcountor, str]]:
    fake = FakeProcountor(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_key=API_KEY)
    with fake.serve() as served:
        yield fake, served.url


@pytest.fixture
def operator(tmp_path: Path, procountor) -> Operator:
    return Operator(tmp_path, procountor[1])


def test_the_api_key_is_read_from_a_file(operator: Operator, tmp_path: Path) -> None:
    (tmp_path / "key").write_text(API_KEY + "\n")
    done = operator.run(*operator.enable_args("--api-key-file", str(tmp_path / "key")))
    assert done.returncode == 0, done.stderr
    assert "switched on" in done.stdout and "the integration's API client" in done.stdout
    assert operator.stored() == [(1, None, None)]  # the integration's client is not stored per tenant


def test_the_api_key_is_read_from_standard_input_when_it_is_not_a_terminal(operator: Operator) -> None:
    done = operator.run(*operator.enable_args(), stdin=f"  {API_KEY}  \nnot read\n")
    assert done.returncode == 0, done.stderr
    assert "switched on" in done.stdout
    assert API_KEY not in done.stdout + done.stderr
    assert len(operator.stored()) == 1


def test_on_a_terminal_the_api_key_is_asked_for_and_not_echoed(operator: Operator) -> None:
    code, screen = _on_a_terminal(operator, answer=API_KEY, waiting_for="(input hidden): ")
    assert code == 0, screen
    assert "API key of organization 1 (input hidden):" in screen
    assert "switched on" in screen
    assert API_KEY not in screen  # what was typed did not show
    assert len(operator.stored()) == 1


def _on_a_terminal(operator: Operator, *, answer: str, waiting_for: str) -> tuple[int, str]:
    """Runs `tenants enable` with a pseudo-terminal as its terminal; types `answer` once `waiting_for` shows."""
    leader, follower = os.openpty()
    process = subprocess.Popen(
        [*ON_A_TERMINAL, *operator.enable_args()],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=operator.env,
        cwd=operator.folder,
        start_new_session=True,
    )
    os.close(follower)
    screen, typed, deadline = b"", False, time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the terminal closes when the process ends
                    break
                if not chunk:
                    break
                screen += chunk
            if not typed and waiting_for.encode() in screen:
                os.write(leader, answer.encode() + b"\n")
                typed = True
        return process.wait(timeout=30), screen.decode(errors="replace")
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("stdin", ["", "\n", "   \n"], ids=["nothing", "an empty line", "blanks"])
def test_an_empty_api_key_is_refused_and_nothing_is_stored(operator: Operator, stdin: str) -> None:
    done = operator.run(*operator.enable_args(), stdin=stdin)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "Error: no API key was given: type it at the prompt, pipe it on standard input, or use --api-key-file PATH"
    )
    assert operator.stored() == []


def test_an_api_key_file_that_is_not_there_is_one_clear_line(operator: Operator, tmp_path: Path) -> None:
    done = operator.run(*operator.enable_args("--api-key-file", str(tmp_path / "nope")))
    assert done.returncode == 2
    assert done.stderr.strip() == f"Error: --api-key-file: cannot read {tmp_path / 'nope'}: No such file or directory"


@pytest.mark.parametrize("option", ["--api-key", "--client-secret"])
def test_a_secret_given_as_an_option_value_is_refused_with_the_ways_to_give_it(operator: Operator, option) -> None:
    done = operator.run(*operator.enable_args(option, API_KEY), stdin=API_KEY + "\n")
    assert done.returncode == 2
    assert "never taken as option values" in done.stderr and "--api-key-file" in done.stderr
    assert API_KEY not in done.stdout + done.stderr
    assert operator.stored() == []


def test_an_organization_with_its_own_api_client_gives_its_id_and_a_file_with_its_secret(tmp_path: Path) -> None:
    own = FakeProcountor(client_id="own-client", client_secret="own-secret-77aa", api_key=API_KEY)
    with own.serve() as served:
        operator = Operator(tmp_path, served.url)
        (tmp_path / "own-secret").write_text("own-secret-77aa\n")
        own_client = ("--client-id", "own-client", "--client-secret-file", str(tmp_path / "own-secret"))
        done = operator.run(*operator.enable_args(*own_client), stdin=API_KEY)
        assert done.returncode == 0, done.stderr
        assert "its own API client own-client" in done.stdout
        [(org, client_id, secret_enc)] = operator.stored()
        assert (org, client_id) == (1, "own-client") and secret_enc and "own-secret" not in secret_enc
        synced = operator.run("sync", "--organization", "1")
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert own.store.tokens  # the runs log in with the organization's own client


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (("--client-id", "own-client"), "--client-id needs --client-secret-file PATH"),
        (("--client-secret-file", "x"), "--client-secret-file needs --client-id"),
    ],
)
def test_an_own_api_client_needs_both_its_id_and_its_secret_file(operator: Operator, given, expected: str) -> None:
    done = operator.run(*operator.enable_args(*given), stdin=API_KEY)
    assert done.returncode == 2 and expected in done.stderr
    assert operator.stored() == []


def test_without_any_api_client_the_settings_to_set_are_named_before_the_key_is_asked(operator: Operator) -> None:
    done = operator.run(*operator.enable_args(), stdin=API_KEY, SPOTILLA_PROCOUNTOR_CLIENT_ID="")
    assert done.returncode == 2
    assert "SPOTILLA_PROCOUNTOR_CLIENT_ID" in done.stderr and "--client-id" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert operator.stored() == []

"""The command line against a real SQLite file and the fake Procountor served on loopback."""

from __future__ import annotations

import base64
import sqlite3
import urllib.parse
from pathlib import Path

import pytest
from cli_world import API_KEY, SECRET
from rich.console import Console
from typer.testing import CliRunner

from spotilla_procountor.adapters.procountor_fake import FakeProcountor
from spotilla_procountor.app.cli import app
from spotilla_procountor.app.demo import run_demo

pytestmark = pytest.mark.loopback


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def enable(url: str, api_key: str = API_KEY, *extra: str, org: int = 1) -> tuple[int, str]:
    key_file = Path(f"api-key-{org}")  # in the test's own directory (the fixture `env` goes there)
    key_file.write_text(api_key + "\n")
    return invoke(
        "tenants", "enable", str(org), "--api-key-file", str(key_file), "--environment", url,
        "--bank-account", "FI4950009420028730", "--tasks-completed-from", "2000-01-01", *extra,
    )  # fmt: skip


def stored_settings(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT organization_id, client_id, client_secret_enc, api_key_enc FROM procountor_settings"
        ).fetchall()


def seeded(database: Path) -> None:
    assert invoke("db", "upgrade")[0] == 0
    assert invoke("demo-data", "--organization", "1", "--customers", "12", "--tasks", "20", "--seed", "3")[0] == 0


def all_text_in(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(repr(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))


def secret_forms(*secrets: str) -> list[str]:
    forms = []
    for secret in secrets:
        forms += [secret, urllib.parse.quote(secret), base64.b64encode(secret.encode()).decode()]
    return forms


def test_wrong_credentials_are_refused_plainly_and_nothing_is_stored(env: Path, procountor) -> None:
    seeded(env)
    code, output = enable(procountor[1], api_key="not-the-api-key")
    assert code == 2
    assert "not switched on" in output and "refused" in output.lower()
    assert "not-the-api-key" not in output
    assert stored_settings(env) == []


def test_secrets_never_appear_in_clear_in_output_or_database(env: Path, procountor) -> None:
    seeded(env)
    outputs = [enable(procountor[1])[1], invoke("tenants", "list")[1], invoke("sync")[1], invoke("status")[1]]
    stored = all_text_in(env)
    [(org, own_client_id, own_secret, api_key_enc)] = stored_settings(env)
    assert (org, own_client_id, own_secret) == (1, None, None)  # the integration's client: not stored per tenant
    assert api_key_enc  # the tenant really is stored
    for form in secret_forms(SECRET, API_KEY):
        assert form not in stored
        assert all(form not in out for out in outputs)


def test_missing_secret_key_names_the_setting(env: Path, procountor, monkeypatch: pytest.MonkeyPatch) -> None:
    seeded(env)
    monkeypatch.delenv("SPOTILLA_PROCOUNTOR_SECRET_KEY")
    code, output = enable(procountor[1])
    assert code == 2
    assert "SPOTILLA_PROCOUNTOR_SECRET_KEY" in output


def test_dry_run_changes_nothing_in_either_system(env: Path, procountor) -> None:
    fake, url = procountor
    seeded(env)
    assert enable(url)[0] == 0
    before_db, before_fake = all_text_in(env), (fake.partners(), fake.products(), fake.invoices())
    code, output = invoke("sync", "--organization", "1", "--dry-run")
    assert code == 0, output
    assert "would create" in output  # it did find work to describe
    assert all_text_in(env) == before_db
    assert (fake.partners(), fake.products(), fake.invoices()) == before_fake


def test_sync_then_status_shows_runs_and_held_back_reasons(env: Path, procountor) -> None:
    fake, url = procountor
    seeded(env)
    assert enable(url)[0] == 0
    code, output = invoke("sync", "--organization", "1")
    assert code == 0, output
    assert fake.invoices() and {i["status"] for i in fake.invoices()} == {"UNFINISHED"}
    code, status = invoke("status", "--organization", "1")
    assert code == 0
    assert "SUCCEEDED" in status and "Next scheduled run" in status
    assert "BUSINESS_ID" in status or "NO_CUSTOMER" in status  # demo data always holds some back


def test_demo_tells_the_story_and_exits_zero(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    assert run_demo(console, workdir=tmp_path) == 0
    text = console.export_text()
    assert "Demo finished." in text
    assert "1 customer updated from Procountor" in text
    assert "created 0 new objects" in text


def test_each_tenants_data_goes_only_to_its_own_procountor(env: Path, tmp_path: Path) -> None:
    """Organization 1 uses the integration's API client, organization 2 an API client of its own."""
    companies = {
        1: FakeProcountor(client_id="cli-client", client_secret=SECRET, api_key="key-1"),
        2: FakeProcountor(client_id="own-client-2", client_secret="own-secret-2", api_key="key-2"),
    }
    (tmp_path / "own-secret").write_text("own-secret-2")
    own_client = ("--client-id", "own-client-2", "--client-secret-file", str(tmp_path / "own-secret"))
    assert invoke("db", "upgrade")[0] == 0
    with companies[1].serve() as first, companies[2].serve() as second:
        for org, served, extra in ((1, first, ()), (2, second, own_client)):
            args = ["--organization", str(org), "--customers", "8", "--tasks", "12", "--seed", str(org)]
            assert invoke("demo-data", *args)[0] == 0
            enabled = enable(served.url, f"key-{org}", *extra, org=org)
            assert enabled[0] == 0, enabled[1]
        code, output = invoke("sync")
    assert code == 0, output
    for org, fake in companies.items():
        keys = {invoice["originalInvoiceNumber"] for invoice in fake.invoices()}
        assert keys and all(key.startswith(f"SPOTILLA-{org}-T") for key in keys)
        assert {p["invoicingInfo"].get("customerNumber") for p in fake.partners()} <= {
            str(c) for c in _customer_ids(env, org)
        }


def _customer_ids(database: Path, organization_id: int) -> set[int]:
    with sqlite3.connect(database) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM customers WHERE organization_id = ?", (organization_id,))}

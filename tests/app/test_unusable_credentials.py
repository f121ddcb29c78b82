"""A tenant whose credentials cannot be used gets a FAILED run in the run log with the reason, logged at ERROR,
so that `status` and alerts see it instead of the last good run.

On the code before this change such a cycle returned a FAILED report but recorded no run at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from spotilla_procountor.adapters.procountor_fake import FakeProcountor, RunningFake
from spotilla_procountor.adapters.spotilla_sql.migrate import upgrade_database
from spotilla_procountor.app.container import Container, build_container
from spotilla_procountor.app.credentials import new_key
from spotilla_procountor.app.demo_data import DemoSize, generate_demo_data
from spotilla_procountor.app.settings import Settings
from spotilla_procountor.domain.state import RunFailure, RunStatus

pytestmark = pytest.mark.loopback
CLIENT = {"client_id": "integration-client", "client_secret": "integration-secret"}
KEY = new_key()


@pytest.fixture
def procountor() -> Iterator[RunningFake]:
    with FakeProcountor(**CLIENT, api_key="key-1").serve() as served:
        yield served


def service(tmp_path: Path, **settings: object) -> Container:
    values = {"secret_key": KEY, **CLIENT, **settings}
    return build_container(
        Settings(database_url=f"sqlite:///{tmp_path / 'spotilla.sqlite3'}", _env_file=None, **values)
    )


@pytest.fixture
def switched_on(tmp_path: Path, procountor: RunningFake) -> Container:
    """Organization 1 with some work, switched on and synced once successfully."""
    container = service(tmp_path)
    upgrade_database(container.engine())
    generate_demo_data(container.engine(), organization_id=1, size=DemoSize(customers=3, products=2, tasks=4), seed=1)
    container.tenants().enable(
        1, "key-1", environment=procountor.url, bank_account="FI4950009420028730", tasks_completed_from=date(2000, 1, 1)
    )
    assert container.sync_service().sync(1).status == RunStatus.SUCCEEDED
    return container


def _failed_runs_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.ERROR and r.getMessage() == "run finished"]


def test_credentials_no_key_decrypts_give_a_failed_run_in_the_run_log(
    tmp_path: Path, switched_on: Container, caplog: pytest.LogCaptureFixture
) -> None:
    replaced = service(tmp_path, secret_key=new_key())  # the key was changed without keeping the old one
    with caplog.at_level(logging.INFO):
        report = replaced.sync_service().sync(1)

    assert (report.status, report.failure) == (RunStatus.FAILED, RunFailure.CREDENTIALS_UNREADABLE)
    latest, earlier = replaced.state().runs(1, limit=2)
    assert latest.id == report.run_id and latest.status == RunStatus.FAILED and latest.finished_at is not None
    assert "organization 1 cannot be decrypted" in (latest.error or "") and "rotate-key" in (latest.error or "")
    assert earlier.status == RunStatus.SUCCEEDED  # the good run is history now, not the latest word
    [logged] = _failed_runs_logged(caplog)
    assert logged.failure == RunFailure.CREDENTIALS_UNREADABLE and "cannot be decrypted" in logged.error


def test_a_tenant_without_an_api_client_gets_a_failed_run_naming_the_settings(
    tmp_path: Path, switched_on: Container, caplog: pytest.LogCaptureFixture
) -> None:
    without_client = service(tmp_path, client_id=None, client_secret=None)
    with caplog.at_level(logging.INFO):
        [report] = without_client.sync_service().sync_all()

    assert (report.status, report.failure) == (RunStatus.FAILED, RunFailure.CREDENTIALS_UNREADABLE)
    latest = without_client.state().runs(1, limit=1)[0]
    assert latest.status == RunStatus.FAILED and "SPOTILLA_PROCOUNTOR_CLIENT_ID" in (latest.error or "")
    assert _failed_runs_logged(caplog)


def test_a_dry_run_with_unusable_credentials_records_nothing(tmp_path: Path, switched_on: Container) -> None:
    replaced = service(tmp_path, secret_key=new_key())
    before = replaced.state().runs(1, limit=10)
    report = replaced.sync_service().sync(1, dry_run=True)
    assert report.status == RunStatus.FAILED and report.run_id is None
    assert replaced.state().runs(1, limit=10) == before

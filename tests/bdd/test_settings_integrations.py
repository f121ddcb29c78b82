"""Scenarios of features/settings_integrations.feature, and what the admin and the operators see.

Not over the other features' backends: this feature has a world of its own (`admin_world.py`), the service as `run`
serves it, on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_bdd import parsers, scenarios, then
from sqlalchemy import Engine

from dbutil import postgres_engine, sqlite_engine

from .admin_world import CLIENT_ID, AdminWorld, User
from .steps_admin import *  # noqa: F403 - step definitions are fixtures, found by name
from .steps_admin import integration_of

pytestmark = pytest.mark.loopback

scenarios("settings_integrations.feature")


@pytest.fixture
def _on_every_backend(database: Engine) -> None:
    """Instead of the other features' backends (memory, the SQLite world): each scenario runs on each database."""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Spotilla's database: a SQLite file, or a schema of its own on PostgreSQL."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path)
        yield engine
        engine.dispose()
    else:
        with postgres_engine() as engine:
            yield engine


@pytest.fixture
def admin_world(database: Engine) -> Iterator[AdminWorld]:
    with AdminWorld.started(database) as world:
        yield world


def _problem(answer: httpx.Response, field: str) -> dict[str, Any]:
    """The one problem the refusal names for this field of the form."""
    assert answer.status_code == 422, answer.text
    (problem,) = [p for p in answer.json()["detail"] if p["loc"] == ["body", field]]
    return problem


# ---------------------------------------------------------------- the settings


@then("the integration is switched on, in the organization's company in Procountor")
def _switched_on(admin_world: AdminWorld, admin: User) -> None:
    page = integration_of(admin, admin_world.organization_id)
    company = admin_world.procountor.company
    assert page["enabled"] and page["environment"] == "test", page
    assert (page["company"]["id"], page["company"]["name"]) == (company["id"], company["name"]), page


@then(parsers.re(r"the integration (?:stays|is) switched off"))
def _switched_off(admin_world: AdminWorld, admin: User) -> None:
    assert integration_of(admin, admin_world.organization_id)["enabled"] is False


@then("the page says an API key is stored, without showing it")
def _key_stored(admin_world: AdminWorld, admin: User) -> None:
    page = integration_of(admin, admin_world.organization_id)  # `User` fails any answer with the key in it
    assert page["api_key_stored"] is True and "api_key" not in page, page


@then("no API key is stored")
def _no_key_stored(admin_world: AdminWorld, admin: User) -> None:
    page = integration_of(admin, admin_world.organization_id)
    assert (page["configured"], page["api_key_stored"]) == (False, False), page


@then("the API key field says Procountor refused the key")
def _key_refused(answer: httpx.Response) -> None:
    problem = _problem(answer, "api_key")
    assert problem["type"] == "refused" and "Procountor refused this API key" in problem["msg"], problem


@then(parsers.parse('the API key field tells how to create one: "{where}", with the integration\'s client id'))
def _key_help(answer: httpx.Response, where: str) -> None:
    message = _problem(answer, "api_key")["msg"]
    assert where in message and CLIENT_ID in message, message


@then(parsers.parse('the bank account field says "{words}"'))
def _account_refused(answer: httpx.Response, words: str) -> None:
    problem = _problem(answer, "bank_account")
    assert words in problem["msg"], problem

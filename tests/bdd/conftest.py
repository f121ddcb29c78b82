"""Fixtures of the executable specification: a world per backend, frozen Finnish time, and the shared steps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from spotilla_procountor.adapters.procountor_fake import FakeProcountor

from .backends import MemoryBackend, SpotillaBackend
from .sql_backend import SqliteBackend
from .steps_outcomes import *  # noqa: F403 - shared step definitions are fixtures, found by name
from .steps_procountor import *  # noqa: F403
from .steps_run import *  # noqa: F403
from .steps_spotilla import *  # noqa: F403
from .world import World

START = "2025-03-14 10:00:00"  # noon in Helsinki


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SpotillaBackend]:
    """Where Spotilla and the integration's own state live; every feature runs on each backend."""
    store: SpotillaBackend = MemoryBackend() if request.param == "memory" else SqliteBackend(tmp_path)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def _on_every_backend(backend: SpotillaBackend) -> None:
    """Puts `backend` in every scenario's fixtures, so each scenario is run once per backend."""


@pytest.fixture
def frozen_time() -> Iterator[FrozenDateTimeFactory]:
    """The wall clock, stopped at noon of 2025-03-14 in Finland unless a step moves it."""
    with freeze_time(START) as frozen:
        yield frozen


@pytest.fixture
def world(backend: SpotillaBackend, frozen_time: FrozenDateTimeFactory) -> Iterator[World]:
    """One organization with the integration, its Spotilla, and an empty Procountor company."""
    built = World(backend, FakeProcountor())
    yield built
    built.close()

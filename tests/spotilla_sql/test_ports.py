"""The SQL adapters offer exactly the methods the domain's ports ask for, with the same signatures."""

from __future__ import annotations

import inspect

import pytest

from spotilla_procountor.adapters.spotilla_sql.repository import SqlSpotillaRepository
from spotilla_procountor.adapters.spotilla_sql.state_store import SqlStateStore
from spotilla_procountor.domain.ports import SpotillaRepository, StateStore


def _port_methods(port: type) -> list[str]:
    return [name for name, member in vars(port).items() if inspect.isfunction(member) and not name.startswith("_")]


@pytest.mark.parametrize(
    ("adapter", "port"), [(SqlSpotillaRepository, SpotillaRepository), (SqlStateStore, StateStore)]
)
def test_the_adapter_implements_every_port_method_with_its_signature(adapter: type, port: type) -> None:
    assert len(_port_methods(port)) >= 6  # the loop below checks something
    for name in _port_methods(port):
        expected = inspect.signature(getattr(port, name))
        actual = inspect.signature(getattr(adapter, name))
        assert list(actual.parameters) == list(expected.parameters), name
        assert [p.kind for p in actual.parameters.values()] == [p.kind for p in expected.parameters.values()], name
        assert [p.default for p in actual.parameters.values()] == [p.default for p in expected.parameters.values()], (
            name
        )

"""The domain imports no infrastructure: no HTTP client, no database, no settings, no container."""

import ast
from pathlib import Path

import pytest

import spotilla_procountor.domain

FORBIDDEN = ("httpx", "sqlalchemy", "pydantic_settings", "dependency_injector")
DOMAIN_FILES = sorted(Path(spotilla_procountor.domain.__file__).parent.glob("*.py"))


def imported_modules(source: str) -> set[str]:
    """Every module a file imports, at any depth of the syntax tree (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_domain_has_modules_to_check() -> None:
    assert len(DOMAIN_FILES) > 10


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_a_domain_module_imports_no_infrastructure(path: Path) -> None:
    modules = imported_modules(path.read_text(encoding="utf-8"))
    offending = sorted(m for m in modules if m.split(".")[0] in FORBIDDEN)
    assert offending == [], f"{path.name} imports {offending}"


def test_the_checker_sees_imports_inside_functions() -> None:
    source = "def f():\n    import httpx.client\n    from sqlalchemy import orm\n"
    assert {m.split(".")[0] for m in imported_modules(source)} == {"httpx", "sqlalchemy"}

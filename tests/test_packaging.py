"""The wheel holds every module and data file under src/, as the editable install that the tests use does.

The editable install maps `spotilla_procountor` onto src/ as a whole, so a subpackage or a template the build
leaves out still passes every other test and is only missing once installed from the wheel. This builds the
wheel (offline, with the setuptools the dev extras install) from a copy of the files git sees, so a stale
build/ or a file ignored by .gitignore cannot hide anything, and compares it with src/.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "spotilla_procountor"
SCRIPT = "spotilla-procountor = spotilla_procountor.app.cli:main"

BUILD = """
import sys
from setuptools import build_meta
print(build_meta.build_wheel(sys.argv[1]))
"""


def _source_files() -> list[str]:
    """Tracked files and new ones not ignored, as in a clean clone with the new files added."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to tell source files from local ones")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def _shipped(name: str) -> bool:
    """A file under src/ that belongs in the wheel: everything but bytecode and hidden files."""
    path = PurePosixPath(name)
    return (
        path.parts[0] == "src"
        and "__pycache__" not in path.parts
        and path.suffix not in {".pyc", ".pyo"}
        and not path.name.startswith(".")
    )


@dataclass(frozen=True)
class Built:
    source_files: list[str]
    in_wheel: set[str]
    entry_points: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    files = _source_files()
    project = tmp_path_factory.mktemp("project")
    for name in files:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-c", BUILD, str(dist)], check=False, cwd=project, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"building the wheel failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    wheel = dist / result.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        return Built(files, names, archive.read(entry_points).decode())


def test_every_module_and_data_file_under_src_is_in_the_wheel(built: Built) -> None:
    expected = {f"{PACKAGE}/{PurePosixPath(name).relative_to('src')}" for name in built.source_files if _shipped(name)}
    assert f"{PACKAGE}/app/cli.py" in expected  # the layout this test reads is still the one it knows
    assert any(not name.endswith(".py") for name in expected)  # and it checks data files too (script.py.mako)
    missing = sorted(expected - built.in_wheel)
    assert not missing, f"in src/ but not in the wheel (see setup.py and [tool.setuptools*]): {missing}"


def test_the_wheel_holds_one_import_package_and_no_bytecode(built: Built) -> None:
    top_level = {name.split("/", 1)[0] for name in built.in_wheel}
    assert {name for name in top_level if not name.endswith(".dist-info")} == {PACKAGE}
    assert not [name for name in built.in_wheel if "__pycache__" in name or name.endswith((".pyc", ".pyo"))]


def test_the_wheel_declares_the_console_script(built: Built) -> None:
    assert SCRIPT in [line.strip() for line in built.entry_points.splitlines()]

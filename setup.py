"""The package list, computed so that the wheel holds whatever the editable install can import.

Everything else about the build is in pyproject.toml. The source tree keeps the layout the design fixes
(src/domain, src/adapters, src/app) and is installed as ONE import package, `spotilla_procountor`
(`package-dir` in pyproject.toml maps it to src/). pyproject.toml cannot say "every directory under src,
prefixed with spotilla_procountor.", so this file does. Every directory counts, with or without an
__init__.py, as it does for the editable install: then package data in a data-only folder (templates/,
static/, locale/ ...) ships too, through the "*" patterns in [tool.setuptools.package-data].
tests/test_packaging.py checks the built wheel against the files under src/.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

PACKAGE = "spotilla_procountor"
SOURCE = Path(__file__).resolve().parent / "src"

setup(
    packages=[
        PACKAGE,
        *(
            f"{PACKAGE}.{name}"
            for name in find_namespace_packages(str(SOURCE), exclude=["__pycache__", "*.__pycache__"])
        ),
    ],
)

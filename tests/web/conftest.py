"""Fixtures of the pages' tests: one Chromium per test session (Debian's, never a downloaded one), and the service
stack of `web_world` on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from web_world import Stack, chromium_args, chromium_or_skip, running_stack, screenshot_folder

from dbutil import postgres_engine


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(executable), args=chromium_args())
        yield chromium
        chromium.close()


@pytest.fixture
def sqlite_stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(f"sqlite:///{tmp_path / 'spotilla.sqlite3'}") as stack:
        yield stack


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """The stack on each database the service supports."""
    if request.param == "sqlite":
        with running_stack(f"sqlite:///{tmp_path / 'spotilla.sqlite3'}") as stack:
            yield stack
        return
    with postgres_engine() as engine, running_stack(engine.url.render_as_string(hide_password=False)) as stack:
        yield stack


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_folder(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., object]]:
    """Opens a page in a browser context of its own (no cookies shared) whose browser prefers `language`."""
    contexts = []

    def open_(language: str = "fi-FI"):
        context = browser.new_context(locale=language, viewport={"width": 1200, "height": 900})
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()

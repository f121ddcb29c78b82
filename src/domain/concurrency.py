"""Runs independent per-item work side by side, so the API budget is used while answers are awaited."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


class ShutdownRequested(Exception):
    """Raised between items when the service is asked to stop; the run ends as INTERRUPTED."""


class StopRequest(threading.Event):
    """Asks a run to stop between items; `failure` set means it must end as FAILED, not INTERRUPTED."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: str | None = None

    def fail(self, why: str) -> None:
        """Stops the run because something it relies on broke (e.g. it lost its lock)."""
        self.failure = why
        self.set()


def for_each(
    items: Iterable[T], work: Callable[[T], None], *, workers: int = 1, stop: threading.Event | None = None
) -> None:
    """Calls `work` for every item, `workers` at a time; stops taking new items once `stop` is set.

    Items already under way finish (so no create is abandoned between sending and recording), then
    ShutdownRequested is raised. The first unexpected error stops new items and is raised.
    """

    def guarded(item: T) -> None:
        if stop is not None and stop.is_set():
            raise ShutdownRequested()
        work(item)

    if workers <= 1:
        for item in items:
            guarded(item)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        # Each item runs in a copy of the caller's context, so log lines keep the run id.
        futures: list[Future[None]] = [pool.submit(contextvars.copy_context().run, guarded, i) for i in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in done if f.exception() is not None), None)
        if failed is not None:
            for future in futures:
                future.cancel()
            raise failed.exception()  # type: ignore[misc]

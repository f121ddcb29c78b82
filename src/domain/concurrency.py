"""Runs independent per-item work side by side, so the API budget is used while answers are awaited."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def for_each(items: Iterable[T], work: Callable[[T], None], *, workers: int = 1) -> None:
    """Calls `work` for every item, `workers` at a time; the first unexpected error is raised at the end."""
    if workers <= 1:
        for item in items:
            work(item)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        for future in [pool.submit(work, item) for item in items]:
            future.result()

"""Each thread's writes held back until its `together()` block ends: state-store writes, a run's tally, results.

One mechanism for everything that must happen only if a block of writes commits (and all of it, or none).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

W = TypeVar("W")


class HeldWrites(Generic[W]):
    """Each thread's writes held back until its outermost `together()` block ends, dropped if it raises."""

    def __init__(self) -> None:
        self._local = threading.local()

    def hold(self, write: W) -> bool:
        """Holds `write` when this thread is inside a block (True); False leaves it to the caller to do now."""
        pending = getattr(self._local, "pending", None)
        if pending is None:
            return False
        pending.append(write)
        return True

    @contextmanager
    def together(self, apply: Callable[[list[W]], object]) -> Iterator[None]:
        """Gathers the thread's writes and hands them to `apply` when the block ends; drops them if it raises.

        A nested block joins the outermost one.
        """
        if getattr(self._local, "pending", None) is not None:
            yield
            return
        self._local.pending = pending = []
        try:
            yield
        finally:
            self._local.pending = None
        if pending:
            apply(pending)

"""How late a claimed create may still be sent; after that it is not sent at all, and a later run sends it.

A run that lost its lock may have claimed a create that is still waiting for its turn (rate limit, retries after a
429). The next run leaves such a claim alone for the claim grace; sending may start only within a quarter of it (see
`CreateOncePipeline._send_budget`), so once the grace is over the create has either reached Procountor (and the
look-up finds it) or was never sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_SEND_BY: ContextVar[float | None] = ContextVar("send_by", default=None)


@contextmanager
def send_within(seconds: float | None) -> Iterator[None]:
    """Creates sent by this thread in the block must start within `seconds` (None: no limit)."""
    token = _SEND_BY.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _SEND_BY.reset(token)


def too_late_to_send() -> bool:
    """True when the current create's sending deadline has passed: it must not be sent now."""
    deadline = _SEND_BY.get()
    return deadline is not None and time.monotonic() > deadline

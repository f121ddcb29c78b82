"""A thread-safe sliding-window limiter, shared by every gateway that uses one Procountor credential."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Admits at most `per_second` requests in any window of `1 + slack_s` seconds.

    Procountor allows 20 requests per second per client (DEV-REQ; another snapshot says 60 in
    production — UNCONFIRMED, so 20 is the default). The window is a little longer than one second
    (`slack_s`) so that uneven network delay cannot make the server count more than `per_second`
    requests in its own one-second window. Token requests count too.
    """

    def __init__(
        self,
        per_second: int = 20,
        *,
        slack_s: float = 0.15,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second < 1:
            raise ValueError("RateLimiter.per_second must be at least 1")
        self.per_second = per_second
        self._window = 1.0 + slack_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()

    def acquire(self) -> None:
        """Blocks until one more request fits in the window, then counts it."""
        while True:
            wait = self._try_admit()
            if wait is None:
                return
            self._sleep(wait)

    def _try_admit(self) -> float | None:
        """Counts the request and returns None, or returns how long to wait before trying again."""
        with self._lock:
            now = self._monotonic()
            # The tolerance keeps float rounding from leaving a wait too small to move the clock.
            while self._admitted and now - self._admitted[0] >= self._window - 1e-9:
                self._admitted.popleft()
            if len(self._admitted) < self.per_second:
                self._admitted.append(now)
                return None
            return self._admitted[0] + self._window - now

    def __repr__(self) -> str:
        return f"RateLimiter(per_second={self.per_second})"

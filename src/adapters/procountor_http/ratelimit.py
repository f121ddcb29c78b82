"""A thread-safe sliding-window limiter, shared by every gateway that uses one Procountor credential."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_MARGIN = 0.05


class RateLimiter:
    """Spaces requests evenly: one every `(1 + margin) / per_second` seconds, shared by all callers.

    Procountor allows 20 requests per second per client (DEV-REQ; another snapshot says 60 in
    production — UNCONFIRMED, so 20 is the default). Even spacing rather than bursts of `per_second`
    is what keeps the server's own count under the limit: with bursts, a request or two delayed on
    the way (a busy machine, a slow network) joins the next burst in the server's one-second window;
    spaced out, a delay only moves a request a little. The margin keeps the rate a little under the
    limit: with 5 %, requests sent on time can bunch up by 50 ms within any second on their way and
    still arrive at most `per_second` to a second. A longer hold-up (a lost packet) is what the 429
    handling is for. Token requests count too.
    """

    def __init__(
        self,
        per_second: int = 20,
        *,
        margin: float = DEFAULT_MARGIN,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second < 1:
            raise ValueError("RateLimiter.per_second must be at least 1")
        if not 0 <= margin <= 1:
            raise ValueError("RateLimiter.margin must be between 0 and 1")
        self.per_second = per_second
        self.margin = margin
        self._interval = (1.0 + margin) / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at = float("-inf")

    def acquire(self) -> None:
        """Takes the next free turn and sleeps until it comes.

        Turns are handed out in the order callers arrive, so each caller sleeps once; waiting callers do not
        all wake at every turn to find that another one got it.
        """
        with self._lock:
            now = self._monotonic()
            turn = max(now, self._next_at)
            self._next_at = turn + self._interval
        if turn > now:
            self._sleep(turn - now)

    def __repr__(self) -> str:
        return f"RateLimiter(per_second={self.per_second}, margin={self.margin})"

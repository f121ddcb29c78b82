"""A thread-safe limiter spacing requests evenly, shared by every gateway of one Procountor API client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_MARGIN = 0.05
BACK_OFF_STEP = 0.05  # added to the margin at each 429
BACK_OFF_MAX = 0.5
RECOVER_AFTER = 1000  # admitted requests without a 429 before the added margin shrinks by one step's fifth


class RateLimiter:
    """Spaces requests evenly: one every `(1 + margin) / per_second` seconds, shared by all callers.

    Procountor allows 20 requests per second per client (DEV-REQ; another snapshot says 60 in
    production — UNCONFIRMED, so 20 is the default). Even spacing rather than bursts of `per_second`
    is what keeps the server's own count under the limit: with bursts, a request or two delayed on
    the way (a busy machine, a slow network) joins the next burst in the server's one-second window;
    spaced out, a delay only moves a request a little. The margin keeps the rate a little under the
    limit: with 5 %, requests sent on time can bunch up by 50 ms within any second on their way and
    still arrive at most `per_second` to a second. A longer hold-up (a lost packet) is what the 429
    handling is for, and a 429 (`throttled()`) widens the margin by 5 points, up to 50 % (429s within a
    second of a widening are the same burst and count once); it narrows again by a point per 1,000 requests
    admitted without one, never below `margin`. Token requests count too.
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
        self._added = 0.0  # margin added after 429s
        self._widened_at = float("-inf")
        self._clean = 0  # requests admitted since the last 429 or narrowing
        self._interval = (1.0 + margin) / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at = float("-inf")

    @property
    def current_margin(self) -> float:
        """The margin in force: the configured one plus what 429s have added."""
        return self.margin + self._added

    def queue_s(self) -> float:
        """Seconds a request asking for a turn now would wait for it: 0 while there is headroom."""
        with self._lock:
            return max(0.0, self._next_at - self._monotonic())

    def throttled(self) -> None:
        """Procountor answered 429: keep further under its limit from now on."""
        with self._lock:
            self._clean = 0
            now = self._monotonic()
            if now - self._widened_at < 1.0:
                return  # the same burst
            self._widened_at = now
            self._added = min(self._added + BACK_OFF_STEP, BACK_OFF_MAX)
            self._interval = (1.0 + self.current_margin) / self.per_second

    def acquire(self) -> None:
        """Takes the next free turn and sleeps until it comes.

        Turns are handed out in the order callers arrive, so each caller sleeps once; waiting callers do not
        all wake at every turn to find that another one got it.
        """
        with self._lock:
            now = self._monotonic()
            turn = max(now, self._next_at)
            self._next_at = turn + self._interval
            if self._added:
                self._recover()
        if turn > now:
            self._sleep(turn - now)

    def _recover(self) -> None:
        self._clean += 1
        if self._clean >= RECOVER_AFTER:
            self._added = max(0.0, self._added - BACK_OFF_STEP / 5)
            self._clean = 0
            self._interval = (1.0 + self.current_margin) / self.per_second

    def __repr__(self) -> str:
        return f"RateLimiter(per_second={self.per_second}, margin={self.margin})"

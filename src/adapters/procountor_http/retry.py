"""The named backoff policy: capped exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a transiently failed request again.

    Wait before retry n (0-based) = uniform(0, min(cap, base * 2**n)) ("full jitter"), but never less
    than the server's Retry-After. A Retry-After longer than `max_retry_after` ends the retries at once:
    waiting that long inside one call would stall the whole run, the next run retries instead.
    """

    max_attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")

    def wait(self, retry_number: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry `retry_number` (0-based), or None when no retry is left."""
        if retry_number + 1 >= self.max_attempts:
            return None
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        jitter = self.rng.uniform(0, min(self.cap, self.base * 2**retry_number))
        return max(jitter, retry_after or 0.0)


DEFAULT_RETRY = RetryPolicy()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: delay-seconds or an HTTP-date (relative to `now`); None when absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())

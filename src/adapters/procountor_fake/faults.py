"""Fault plan (latency, errors, timeouts, lost answers, 429 bursts) and the per-client rate limiter."""

# Route keys are "METHOD /template" without the version prefix, e.g. "POST /invoices",
# "PUT /invoices/{id}/approve", "POST /oauth/token"; "*" applies to every route without its own entry.
# Retry-After is sent as whole seconds (HTTP delay-seconds), rounded up; use retry_after_s=0 in tests.

import math
import random
from bisect import bisect_right, insort
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any

DROP = "drop"
FAIL_500 = "500"


@dataclass
class FaultPlan:
    """What should go wrong, per route; all probabilities are drawn from one seeded generator."""

    latency_ms: float = 0
    error_rate: dict[str, float] = field(default_factory=dict)
    timeout_rate: dict[str, float] = field(default_factory=dict)
    timeout_sleep_s: float = 5.0
    commit_then_fail_rate: dict[str, float] = field(default_factory=dict)
    commit_then_fail_mode: str = FAIL_500
    burst_429: dict[str, int] = field(default_factory=dict)
    retry_after_s: float = 1

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "FaultPlan":
        """Build from a JSON object; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown FaultPlan fields: {sorted(unknown)}")
        plan = cls(**data)
        if plan.commit_then_fail_mode not in {FAIL_500, DROP}:
            raise ValueError("commit_then_fail_mode must be '500' or 'drop'")
        return plan

    def to_json(self) -> dict[str, Any]:
        """The plan as a JSON object."""
        return asdict(self)


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, never negative."""
    return str(max(0, math.ceil(seconds)))


class FaultInjector:
    """Decides, reproducibly, which requests a fault hits."""

    def __init__(self, plan: FaultPlan | None, seed: int):
        self._seed = seed
        self.injected: Counter[str] = Counter()
        """Faults actually injected, by kind, since the fake started or was reset (plans come and go)."""
        self.set_plan(plan or FaultPlan())

    def set_plan(self, plan: FaultPlan) -> None:
        """Switch plans; restarts the random sequence and the 429 burst counters."""
        self.plan = plan
        # Seeded through a string, which Python hashes: a bare small integer (seed 0 gives 25 draws in a row
        # above 0.25) would leave a short scenario without a single fault at rates like 15-25 %.
        self._rng = random.Random(f"procountor-fake-faults:{self._seed}")
        self._bursts = dict(plan.burst_429)

    def _hits(self, kind: str, table: dict[str, float], route: str) -> bool:
        """One seeded draw against the route's (or "*") probability; a hit is counted."""
        probability = table.get(route, table.get("*", 0.0))
        hit = probability > 0 and self._rng.random() < probability
        if hit:
            self.injected[kind] += 1
        return hit

    def error(self, route: str) -> bool:
        """Answer 500 before doing anything."""
        return self._hits("error", self.plan.error_rate, route)

    def timeout(self, route: str) -> bool:
        """Do the work, then never answer in time."""
        return self._hits("timeout", self.plan.timeout_rate, route)

    def commit_then_fail(self, route: str) -> bool:
        """Do the work, then answer 500 or drop the connection."""
        return self._hits(f"commit_then_fail_{self.plan.commit_then_fail_mode}", self.plan.commit_then_fail_rate, route)

    def burst(self, route: str) -> bool:
        """Consume one request of a pending 429 burst."""
        key = route if route in self._bursts else "*"
        if self._bursts.get(key, 0) <= 0:
            return False
        self._bursts[key] -= 1
        self.injected["429"] += 1
        return True


class RateLimiter:
    """Sliding one-second window per client id; every request counts, rejected ones too."""

    def __init__(self, per_second: float | None):
        self.per_second = per_second
        self._windows: dict[str | None, list[float]] = {}

    def admit(self, client_id: str | None, now: float) -> float | None:
        """None when admitted, else the seconds until the window has room."""
        if self.per_second is None:
            return None
        window = self._windows.setdefault(client_id, [])
        # Arrivals can reach the lock slightly out of order, so the window is kept sorted.
        del window[: bisect_right(window, now - 2.0)]
        earliest = bisect_right(window, now - 1.0)
        in_window = window[earliest : bisect_right(window, now)]
        wait = in_window[0] + 1.0 - now if len(in_window) >= self.per_second else None
        insort(window, now)
        return wait

    def reset(self) -> None:
        """Forget all windows."""
        self._windows.clear()

"""Gmail's per-user quota, spent from a token bucket per mailbox before each call.

Gmail limits each mailbox to a number of quota units per second and charges each
method differently (https://developers.google.com/gmail/api/reference/quota). Pacing
calls here keeps a sync under the limit instead of learning it from 429 answers;
the answers that still come (other clients share the quota) are retried by calls.py,
which also empties the bucket so the next calls wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from crm_core.normalize import mailbox_key

# Quota units per method.
COSTS: dict[str, int] = {
    "getProfile": 1,
    "messages.list": 5,
    "messages.get": 5,
    "history.list": 2,
    "threads.get": 10,
    "labels.list": 1,
    "watch": 100,
    "stop": 1,
}
DEFAULT_COST = 5


def cost_of(method: str, count: int = 1) -> int:
    return COSTS.get(method, DEFAULT_COST) * count


class TokenBucket:
    """``rate`` units per second, holding at most ``capacity`` (default: one second's).

    ``spend(n)`` blocks until the bucket holds ``n`` units (or is full, for a spend
    larger than the capacity, which then leaves the bucket in debt) and takes them.
    Thread-safe: several syncs of one process may share a bucket.
    """

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.capacity
        self._updated = clock()
        self.waited = 0.0  # seconds spent waiting, for the report

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def spend(self, units: float) -> None:
        needed = min(float(units), self.capacity)
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= needed:
                    self._tokens -= units
                    return
                wait = (needed - self._tokens) / self.rate
            self.waited += wait
            self._sleep(wait)

    def drain(self) -> None:
        """Gmail said "slow down": start the next second with an empty bucket."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)

    def calls_per_fill(self, unit_cost: int) -> int:
        """How many calls of ``unit_cost`` one full bucket pays for (at least one)."""
        return max(1, int(self.capacity // unit_cost))


_buckets: dict[tuple[str, float], TokenBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for(address: str, units_per_second: float) -> TokenBucket:
    """The process-wide bucket of a mailbox: every sync of it in this process shares it."""
    key = (mailbox_key(address), float(units_per_second))
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = _buckets[key] = TokenBucket(units_per_second)
        return bucket

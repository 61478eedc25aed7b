"""Per-user quota (token buckets in Gmail quota units) and fault injection."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Gmail quota units per method (https://developers.google.com/gmail/api/reference/quota).
DEFAULT_COSTS: dict[str, int] = {
    "getProfile": 1,
    "messages.list": 5,
    "messages.get": 5,
    "messages.modify": 5,
    "messages.attachments.get": 5,
    "threads.get": 10,
    "history.list": 2,
    "labels.list": 1,
    "watch": 100,
    "stop": 50,
    "messages.send": 100,
    "drafts.create": 10,
    "drafts.get": 5,
    "drafts.list": 5,
    "drafts.send": 100,
    "drafts.delete": 10,
}

ANY_METHOD = "*"


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    updated: float


@dataclass(frozen=True)
class QuotaDecision:
    allowed: bool
    status: int = 200  # 429 or 403 when refused
    retry_after: float = 0.0  # seconds until the bucket holds the cost again


class Quota:
    """Token bucket per user: ``rate`` units/s refill, ``burst`` units capacity.

    Disabled (unlimited) until :meth:`configure` sets a rate. A per-user setting wins
    over the default for all users.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.costs: dict[str, int] = dict(DEFAULT_COSTS)
        self._default: tuple[float, float] | None = None
        self._per_user: dict[str, tuple[float, float] | None] = {}
        self._buckets: dict[str, _Bucket] = {}
        self.over_limit_status = 429

    def cost(self, method: str) -> int:
        with self._lock:
            return self.costs.get(method, 5)

    def set_cost(self, method: str, units: int) -> None:
        with self._lock:
            self.costs[method] = units

    def configure(
        self,
        units_per_second: float | None,
        *,
        burst: float | None = None,
        user: str | None = None,
        over_limit_status: int | None = None,
    ) -> None:
        """Set the budget (None = unlimited). Resets the affected buckets to full."""
        if over_limit_status is not None and over_limit_status not in (429, 403):
            raise ValueError("over_limit_status must be 429 or 403")
        setting = (
            None
            if units_per_second is None
            else (
                float(units_per_second),
                float(burst if burst is not None else units_per_second),
            )
        )
        with self._lock:
            if over_limit_status is not None:
                self.over_limit_status = over_limit_status
            if user is None:
                self._default = setting
                self._per_user.clear()
                self._buckets.clear()
            else:
                key = user.lower()
                self._per_user[key] = setting
                self._buckets.pop(key, None)

    def try_spend(self, user: str, units: int) -> QuotaDecision:
        key = user.lower()
        with self._lock:
            setting = self._per_user.get(key, self._default)
            if setting is None:
                return QuotaDecision(True)
            rate, burst = setting
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(rate, burst, burst, now)
            bucket.tokens = min(bucket.burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= units:
                bucket.tokens -= units
                return QuotaDecision(True)
            wait = (units - bucket.tokens) / rate if rate > 0 else float("inf")
            return QuotaDecision(False, self.over_limit_status, wait)


@dataclass
class Fault:
    """What to do to one call: answer ``status`` (if set) after sleeping ``delay`` seconds."""

    status: int | None = 500
    delay: float = 0.0
    reason: str | None = None
    message: str | None = None
    # Do the work, then drop the connection without answering (a POST that Gmail
    # accepted and whose answer was lost).
    drop: bool = False
    done: bool = True  # with drop: False drops the connection before doing anything


@dataclass
class _Queued:
    fault: Fault
    remaining: int
    user: str | None


class FaultInjector:
    """Random faults (a seeded fraction of calls) plus queued faults for specific methods.

    Method names are the quota names ("messages.get", "history.list", ...), plus
    "batch" (the whole batch HTTP request), "token" (the OAuth endpoint) and "*"
    (any Gmail API call).
    """

    def __init__(self, seed: int | None = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rate = 0.0
        self._statuses: tuple[int, ...] = (500, 503)
        self._methods: frozenset[str] | None = None
        self._queues: dict[str, deque[_Queued]] = {}

    def set_rate(
        self,
        rate: float,
        *,
        statuses: Iterable[int] = (500, 503),
        seed: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        with self._lock:
            self._rate = rate
            self._statuses = tuple(statuses) or (500,)
            self._methods = frozenset(methods) if methods is not None else None
            if seed is not None:
                self._rng.seed(seed)

    def queue(self, method: str, fault: Fault, count: int = 1, user: str | None = None) -> None:
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._queues.setdefault(method, deque()).append(
                _Queued(fault, count, user.lower() if user else None)
            )

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._rate = 0.0

    def pending(self) -> int:
        with self._lock:
            return sum(q.remaining for qs in self._queues.values() for q in qs)

    def take(self, method: str, user: str | None) -> Fault | None:
        """The fault for this call, if any (consuming one queued use).

        Random faults hit Gmail API calls only, unless ``methods`` named others.
        """
        key = user.lower() if user else None
        with self._lock:
            for name in (method, ANY_METHOD) if method not in ("batch", "token") else (method,):
                queue = self._queues.get(name)
                if not queue:
                    continue
                for item in queue:
                    if item.user is None or item.user == key:
                        item.remaining -= 1
                        if item.remaining <= 0:
                            queue.remove(item)
                        return item.fault
            if self._methods is None:
                eligible = method not in ("batch", "token")
            else:
                eligible = method in self._methods
            if eligible and self._rate > 0.0 and self._rng.random() < self._rate:
                return Fault(status=self._rng.choice(self._statuses))
        return None

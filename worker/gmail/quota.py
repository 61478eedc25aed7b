"""Gmail's per-user quota, spent from a token bucket per mailbox before each call.

Gmail limits each mailbox to a number of quota units per second and charges each
method differently (https://developers.google.com/gmail/api/reference/quota). Pacing
calls here keeps a sync under the limit instead of learning it from 429 answers;
the answers that still come (other clients share the quota) are retried by calls.py,
which also empties the bucket so the next calls wait.

The limit is Gmail's, per mailbox, whoever calls: with a Redis broker every ``crm``
process (`crm watch`, `crm sync`, `crm audit`, each worker) spends from one bucket per
mailbox kept in Redis (``RedisTokenBucket``), so together they stay within
``gmail.quota_units_per_second``. With the inline broker there is no shared store and
each process has its own bucket (``TokenBucket``).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import redis

from crm_core.normalize import mailbox_key
from worker.config import Settings

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
    "messages.send": 100,
    "drafts.create": 10,
    "drafts.get": 5,
    "drafts.list": 5,
    "drafts.send": 100,
    "drafts.delete": 10,
}
DEFAULT_COST = 5


def cost_of(method: str, count: int = 1) -> int:
    return COSTS.get(method, DEFAULT_COST) * count


class QuotaBucket(ABC):
    """``rate`` units per second, holding at most ``capacity`` (default: one second's).

    ``spend(n)`` blocks until the bucket holds ``n`` units (or is full, for a spend
    larger than the capacity, which then leaves the bucket in debt) and takes them.
    Thread-safe: several syncs may share a bucket.
    """

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else rate)
        self._sleep = sleep
        self.waited = 0.0  # seconds spent waiting, for the report

    @abstractmethod
    def _take(self, units: float, needed: float) -> float:
        """Take ``units`` if the bucket holds ``needed``: 0.0; else the seconds until it
        will (nothing taken)."""

    @abstractmethod
    def drain(self) -> None:
        """Gmail said "slow down": start the next second with an empty bucket."""

    def spend(self, units: float) -> None:
        needed = min(float(units), self.capacity)
        while (wait := self._take(float(units), needed)) > 0:
            self.waited += wait
            self._sleep(wait)

    def calls_per_fill(self, unit_cost: int) -> int:
        """How many calls of ``unit_cost`` one full bucket pays for (at least one)."""
        return max(1, int(self.capacity // unit_cost))


class TokenBucket(QuotaBucket):
    """A bucket in this process's memory."""

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rate, capacity, sleep=sleep)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = self.capacity
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def _take(self, units: float, needed: float) -> float:
        with self._lock:
            self._refill()
            if self._tokens >= needed:
                self._tokens -= units
                return 0.0
            return (needed - self._tokens) / self.rate

    def drain(self) -> None:
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)


# One atomic step on a bucket kept as a Redis hash {tokens, updated}. Redis's own clock
# (TIME) is the only one all processes share. The key expires once the bucket would be
# full again, which is the state a missing key stands for.
_STEP = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local units = tonumber(ARGV[3])
local needed = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) * rate)
local wait = 0
if ARGV[5] == 'drain' then
    tokens = math.min(tokens, 0)
elseif tokens >= needed then
    tokens = tokens - units
else
    wait = (needed - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens),
    'updated', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return string.format('%.6f', wait)
"""


class RedisTokenBucket(QuotaBucket):
    """A bucket in Redis, shared by every process that names the same key."""

    def __init__(
        self,
        client: redis.Redis,
        key: str,
        rate: float,
        capacity: float | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rate, capacity, sleep=sleep)
        self.key = key
        self._step = client.register_script(_STEP)

    def _run(self, units: float, needed: float, mode: str) -> float:
        answer = self._step(keys=[self.key], args=[self.rate, self.capacity, units, needed, mode])
        return float(answer)

    def _take(self, units: float, needed: float) -> float:
        return self._run(units, needed, "spend")

    def drain(self) -> None:
        self._run(0, 0, "drain")


_buckets: dict[tuple[str, str, float], QuotaBucket] = {}
_clients: dict[str, redis.Redis] = {}
_buckets_lock = threading.Lock()


def quota_key(namespace: str, address: str) -> str:
    """The Redis key of a mailbox's bucket, under the broker's namespace."""
    return f"{namespace}:gmail-quota:{mailbox_key(address)}"


def bucket_for(address: str, settings: Settings) -> QuotaBucket:
    """The bucket of a mailbox: shared through Redis with every process when the broker
    is Redis, else the one of this process (every sync of the mailbox here shares it)."""
    rate = float(settings.gmail.quota_units_per_second)
    broker = settings.broker
    store = "" if broker.url == "inline" else f"{broker.url} {broker.namespace}"
    key = (store, mailbox_key(address), rate)
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            if broker.url == "inline":
                bucket = TokenBucket(rate)
            else:
                client = _clients.get(broker.url)
                if client is None:
                    client = _clients[broker.url] = redis.Redis.from_url(
                        broker.url, socket_timeout=10, socket_connect_timeout=5
                    )
                bucket = RedisTokenBucket(client, quota_key(broker.namespace, address), rate)
            _buckets[key] = bucket
        return bucket

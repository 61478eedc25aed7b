"""Counters of what the fake served: calls and quota units per method per user."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field

REQUEST_LOG_SIZE = 50_000


@dataclass(frozen=True)
class UserStats:
    calls: Mapping[str, int]  # method -> calls that reached the method (incl. refused ones)
    units: int  # quota units spent (calls refused by quota or faults spend none)
    units_by_method: Mapping[str, int]
    statuses: Mapping[int, int]  # HTTP status -> count, over all calls
    throttled: int  # calls refused by the quota
    faults: int  # calls answered by an injected fault
    token_refreshes: int = 0


@dataclass(frozen=True)
class ServerStats:
    users: Mapping[str, UserStats]
    http_requests: int  # requests on the socket (a batch counts once)
    batch_requests: int
    batch_parts: int
    token_requests: int

    def calls(self, user: str, method: str) -> int:
        stats = self._user(user)
        return stats.calls.get(method, 0) if stats else 0

    def units(self, user: str) -> int:
        stats = self._user(user)
        return stats.units if stats else 0

    @property
    def total_units(self) -> int:
        return sum(s.units for s in self.users.values())

    def _user(self, user: str) -> UserStats | None:
        for email, stats in self.users.items():
            if email.lower() == user.lower():
                return stats
        return None


@dataclass(frozen=True)
class RequestRecord:
    """One Gmail API call as the fake saw it."""

    user: str | None
    method: str
    http_method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    status: int
    in_batch: bool
    batch: int | None = None  # which batch request (1, 2, ... since the last reset)


@dataclass
class _UserCounters:
    calls: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    throttled: int = 0
    faults: int = 0


class Usage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, _UserCounters] = {}
        self.http_requests = 0
        self.batch_requests = 0
        self.batch_parts = 0
        self.token_requests = 0
        self.log: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_SIZE)

    def _counters(self, user: str) -> _UserCounters:
        return self._users.setdefault(user, _UserCounters())

    def count(self, attr: str, n: int = 1) -> int:
        with self._lock:
            setattr(self, attr, getattr(self, attr) + n)
            return int(getattr(self, attr))

    def call(self, user: str, method: str) -> None:
        with self._lock:
            self._counters(user).calls[method] += 1

    def spend(self, user: str, method: str, units: int) -> None:
        with self._lock:
            self._counters(user).units[method] += units

    def throttled(self, user: str) -> None:
        with self._lock:
            self._counters(user).throttled += 1

    def fault(self, user: str) -> None:
        with self._lock:
            self._counters(user).faults += 1

    def finish(self, record: RequestRecord) -> None:
        with self._lock:
            if record.user is not None:
                self._counters(record.user).statuses[record.status] += 1
            self.log.append(record)

    def reset(self) -> None:
        with self._lock:
            self._users.clear()
            self.http_requests = self.batch_requests = self.batch_parts = 0
            self.token_requests = 0
            self.log.clear()

    def snapshot(self, refreshes: Mapping[str, int]) -> ServerStats:
        with self._lock:
            users = {
                email: UserStats(
                    calls=dict(c.calls),
                    units=sum(c.units.values()),
                    units_by_method=dict(c.units),
                    statuses=dict(c.statuses),
                    throttled=c.throttled,
                    faults=c.faults,
                    token_refreshes=refreshes.get(email, 0),
                )
                for email, c in self._users.items()
            }
            for email, n in refreshes.items():
                if email not in users:
                    users[email] = UserStats({}, 0, {}, {}, 0, 0, n)
            return ServerStats(
                users=users,
                http_requests=self.http_requests,
                batch_requests=self.batch_requests,
                batch_parts=self.batch_parts,
                token_requests=self.token_requests,
            )

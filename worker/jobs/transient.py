"""Which failures are worth retrying: the database or the broker being away."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

# PostgreSQL SQLSTATEs for conflicts that succeed when simply run again.
_RETRYABLE_SQLSTATES = {
    "40001",
    "40P01",
    "55P03",
    "57P01",
    "57P02",
    "57P03",
    "08000",
    "08003",
    "08006",
    "08001",
    "08004",
}


def is_transient(exc: BaseException) -> bool:
    """True for errors that go away by themselves: connection loss, deadlocks, locks."""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError, PoolTimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return True
        # SQLite: "database is locked" after busy_timeout; psycopg: server gone.
        return isinstance(exc, OperationalError)
    return False


def quick_retries(attempts: int = 4) -> Retrying:
    """In-process retries for a unit of work hit by a deadlock or a connection blip."""
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=0.1, max=2.0),
        reraise=True,
    )

"""Jobs are sent by name, and only after the transaction that causes them commits.

A job sent from inside a transaction could run before the commit (and not see the
rows it is about) or after a rollback (and act on rows that never existed). So
``enqueue`` only collects: ``unit_of_work`` (a transaction) or ``sending`` (no
transaction) sends what was collected when its block ends without an error, and
nothing when it fails. Enqueueing outside either is a programming error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import dramatiq
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import transaction
from worker.runtime.registry import JobName, queue_of


class _Pending(list[tuple[str, tuple[Any, ...]]]):
    """The jobs collected so far, in order, and what is in it (to send each once)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[Any] = set()


_collected: ContextVar[_Pending | None] = ContextVar("jobs_after_commit", default=None)
_broker: dramatiq.Broker | None = None


def bind_broker(broker: dramatiq.Broker) -> None:
    """The broker jobs go to (set by ``worker.jobs.broker.install_broker``)."""
    global _broker
    _broker = broker


def current_broker() -> dramatiq.Broker:
    if _broker is None:
        raise RuntimeError("no broker installed: call worker.jobs.broker.install_broker first")
    return _broker


def enqueue(name: JobName, *args: Any) -> None:
    """Send job ``name`` with ``args`` when the current unit of work has committed.

    The same job with the same arguments is sent once per unit of work.
    """
    pending = _collected.get()
    if pending is None:
        raise RuntimeError(f"enqueue({name!r}) outside a unit of work: nothing would commit it")
    queue_of(name)  # an unknown name fails here, in the sender, not in a worker
    item = (name, args)
    if _hashable(item) not in pending.seen:
        pending.seen.add(_hashable(item))
        pending.append(item)


def _hashable(value: Any) -> Any:
    """Lists (of Gmail ids, say) as tuples, so a job's arguments can be looked up in a set:
    a resume of many thousands of messages sends thousands of jobs."""
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    return value


@contextmanager
def sending() -> Iterator[None]:
    """Collect the jobs enqueued inside the block; send them if it ends without error."""
    pending = _Pending()
    token = _collected.set(pending)
    try:
        yield
    finally:
        _collected.reset(token)
    _send(pending)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction, then the jobs it enqueued; nothing is sent on rollback."""
    with sending(), transaction(sessions) as session:
        yield session


def _send(pending: _Pending) -> None:
    if not pending:
        return
    broker = current_broker()
    for name, args in pending:
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue_of(name), actor_name=name, args=args, kwargs={}, options={}
        )
        broker.enqueue(message)

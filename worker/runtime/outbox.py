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
from crm_core.webhooks import fan_out_wanted
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
        announce_events(session)


def announce_events(session: Session) -> None:
    """A transaction that wrote webhook events sends their fan-out after its commit.

    Inside ``sending`` or ``unit_of_work`` (call it before the commit). Should the
    send be lost, the periodic sweep fans the events out anyway.
    """
    if fan_out_wanted(session):
        enqueue("webhook_fan_out")


def send_later(name: JobName, delay_ms: int, *args: Any) -> bool:
    """Send a job to run in ``delay_ms`` (a retry at its time), outside any transaction.

    False when the broker runs jobs inline, where nothing can wait: the periodic
    sweep runs what is due then.
    """
    broker = current_broker()
    if getattr(broker, "runs_inline", False):
        return False
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue_of(name), actor_name=name, args=args, kwargs={}, options={}
    )
    broker.enqueue(message, delay=max(0, delay_ms))
    return True


def _send(pending: _Pending) -> None:
    if not pending:
        return
    broker = current_broker()
    for name, args in pending:
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue_of(name), actor_name=name, args=args, kwargs={}, options={}
        )
        broker.enqueue(message)

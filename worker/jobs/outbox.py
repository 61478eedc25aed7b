"""Jobs are sent only after the transaction that causes them has committed.

A job sent from inside a transaction could run before the commit (and not see the
rows it is about) or after a rollback (and act on rows that never existed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import transaction


class Outbox:
    def __init__(self) -> None:
        self._pending: list[tuple[dramatiq.Actor[Any, Any], tuple[Any, ...]]] = []

    def send(self, actor: dramatiq.Actor[Any, Any], *args: Any) -> None:
        """Queue ``actor.send(*args)`` for after the commit; duplicates are sent once."""
        item = (actor, args)
        if item not in self._pending:
            self._pending.append(item)

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for actor, args in pending:
            actor.send(*args)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[tuple[Session, Outbox]]:
    """One transaction, then the jobs it asked for; nothing is sent on rollback."""
    outbox = Outbox()
    with transaction(sessions) as session:
        yield session, outbox
    outbox.flush()

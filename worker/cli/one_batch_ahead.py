"""Writing one batch in a thread of its own while the caller reads the next.

An import spends part of its time in Python reading and checking rows and part waiting
for the database to store a batch. With the writing in a second thread (it waits on the
database without holding the interpreter), the next batch is read meanwhile.

One batch is written at a time, in order, and at most one is read ahead: ``submit``
first waits for the batch before it. Its result, or its error, comes back from that
``submit`` or from ``finish``, so a batch that fails stops the import before any later
one is written. On leaving the ``with`` block, a batch being written is let finish (its
transaction commits or rolls back whole) before the block's own error goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

Batch = TypeVar("Batch")
Result = TypeVar("Result")


class OneBatchAhead(Generic[Batch, Result]):
    def __init__(self, write: Callable[[Batch], Result]) -> None:
        self._write = write
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-writer")
        self._pending: Future[Result] | None = None

    def submit(self, batch: Batch) -> Result | None:
        """Start writing ``batch``; returns the result of the batch before it, if any."""
        previous = self.finish()
        self._pending = self._pool.submit(self._write, batch)
        return previous

    def finish(self) -> Result | None:
        """Wait for the batch being written; its result (None if there is none)."""
        pending, self._pending = self._pending, None
        return pending.result() if pending is not None else None

    def __enter__(self) -> OneBatchAhead[Batch, Result]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True)

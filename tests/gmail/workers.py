"""Ingest jobs run by a pool of threads, standing in for `crm worker` processes.

With the inline broker every job runs inside the sync that sends it; a large sync
then measures ingestion, not syncing. Sending to this pool lets the sync go on while
the jobs run beside it, as they do with Redis and workers.
"""

from __future__ import annotations

import queue
import threading
from types import TracebackType
from typing import Self

import pytest

from worker.jobs.actors import ingest_message


class IngestWorkers:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, threads: int = 4) -> None:
        self._jobs: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self.errors: list[BaseException] = []
        self.sent = 0
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        monkeypatch.setattr(ingest_message, "send", self.send)

    def send(self, mailbox: str, gmail_id: str) -> None:
        self.sent += 1
        self._jobs.put((mailbox, gmail_id))

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                ingest_message.fn(*job)
            except BaseException as exc:  # reported by the test
                self.errors.append(exc)
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    def join(self) -> None:
        """Wait until every job sent so far has run."""
        self._jobs.join()
        assert not self.errors, self.errors

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(30)

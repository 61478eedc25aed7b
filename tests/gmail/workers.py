"""Real Dramatiq workers (threads in the test process) on a real Redis queue.

With the inline broker every job runs inside the sync that sends it; a large sync
then measures ingestion, not syncing. With these workers the sync goes on while its
jobs run beside it, as they do with `crm worker` processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

import dramatiq

from tests.processes import REDIS_URL, clear_namespace, new_namespace
from worker.config import BrokerSettings
from worker.jobs.broker import install_broker
from worker.runtime import QUEUES as ALL_QUEUES
from worker.runtime import Runtime, use_settings

QUEUES = tuple(q for q in ALL_QUEUES if q != "sync")  # syncs run in the test itself


class IngestWorkers:
    def __init__(self, runtime: Runtime, threads: int = 4) -> None:
        self.previous = runtime.settings
        self.namespace = new_namespace()
        settings = runtime.settings.model_copy(
            update={"broker": BrokerSettings(url=REDIS_URL, namespace=self.namespace)}
        )
        use_settings(settings)
        self.broker = install_broker(settings)
        self.worker = dramatiq.Worker(self.broker, queues=set(QUEUES), worker_threads=threads)

    def join(self, timeout_ms: int = 300_000) -> None:
        """Wait until every job sent so far has run (and the jobs they sent)."""
        for _ in range(2):
            for queue in QUEUES:
                self.broker.join(queue, timeout=timeout_ms)
        self.worker.join()

    def __enter__(self) -> Self:
        self.worker.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.worker.stop()
        clear_namespace(self.namespace)
        use_settings(self.previous)
        install_broker(self.previous)


@contextmanager
def workers_down(runtime: Runtime) -> Iterator[None]:
    """Jobs go to a real Redis queue that no worker reads and are dropped afterwards, as
    when the workers are down and the queue is then lost."""
    namespace = new_namespace()
    install_broker(
        runtime.settings.model_copy(
            update={"broker": BrokerSettings(url=REDIS_URL, namespace=namespace)}
        )
    )
    try:
        yield
    finally:
        clear_namespace(namespace)
        install_broker(runtime.settings)

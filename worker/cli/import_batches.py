"""The rows of a customer file, read and checked a batch ahead of the database.

Reading and checking a row (CSV, e-mail and phone rules) is Python work; storing a
batch is mostly PostgreSQL's work while this process waits on the socket, the GIL
released. A thread that reads and checks the next batch while the previous one is
stored lets the two overlap on a machine of two cores: 100,000 new customers in about
the time the slower half takes instead of the sum (bench/customer_csv.py).

The thread only reads the file and checks rows; everything that touches the database,
the rejects file or the counts stays in the caller's thread, in file order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from crm_core.transfer.reading import CustomerFile
from crm_core.transfer.records import ImportRecord, RejectedRowError, check_row

# Batches read ahead: one being stored, one ready, one being read.
_AHEAD = 2


@dataclass
class CheckedBatch:
    records: list[ImportRecord] = field(default_factory=list)
    cells_of: dict[int, list[str]] = field(default_factory=dict)
    # Rows the checks refused: (line, reason, cells), in file order.
    rejected: list[tuple[int, str, list[str]]] = field(default_factory=list)
    position: int = 0  # bytes of the file read when the batch was complete


@dataclass
class _Failed:
    error: BaseException


_DONE = object()


def checked_batches(source: CustomerFile, region: str, size: int) -> Iterator[CheckedBatch]:
    """The file's rows in batches of ``size`` checked records (the last one may be
    smaller). An error reading the file comes after the batches before it."""
    ready: queue.Queue[object] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        fields = source.shape.fields
        batch = CheckedBatch()
        try:
            for row in source.rows():
                try:
                    batch.records.append(check_row(row, fields, region))
                    batch.cells_of[row.line] = row.cells
                except RejectedRowError as rejected:
                    batch.rejected.append((rejected.line, rejected.reason, row.cells))
                if len(batch.records) >= size:
                    batch.position = source.position()
                    if not put(batch):
                        return
                    batch = CheckedBatch()
            batch.position = source.position()
            if put(batch):
                put(_DONE)
        except BaseException as error:  # handed to the caller's thread, raised there
            put(_Failed(error))

    reader = threading.Thread(target=read, name="customer-file-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            assert isinstance(item, CheckedBatch)
            yield item
    finally:
        stop.set()
        reader.join()

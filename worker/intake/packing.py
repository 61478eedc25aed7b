"""How messages are packed into ingest jobs: one policy for every way in.

A job holds the raw bytes of all its messages in memory while it files them, and mail
with photos attached runs to megabytes a message: so a job is bounded by bytes as well
as by count, and a message larger than the byte bound travels alone. A thread's
messages go into one job where they can, in the order given (oldest first), so that
a reply is filed after what it answers and jobs running at the same time rarely create
the same customer or conversation (which would make one wait for the other's commit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from crm_core.inbox import LedgerRef

T = TypeVar("T")

JOB_SIZE = 50  # messages per ingest_batch job (and per ingest transaction) at most
JOB_BYTES = 16 * 1024 * 1024  # raw bytes per job at most, unless one message is larger


def bounded_chunks(
    items: Iterable[T], weight: Callable[[T], int], count: int, max_weight: int
) -> Iterator[list[T]]:
    """``items`` in order, in lists of at most ``count`` items and ``max_weight`` in all
    (an item heavier than that on its own makes a list of one)."""
    chunk: list[T] = []
    chunk_weight = 0
    for item in items:
        item_weight = weight(item)
        if chunk and (len(chunk) >= count or chunk_weight + item_weight > max_weight):
            yield chunk
            chunk, chunk_weight = [], 0
        chunk.append(item)
        chunk_weight += item_weight
    if chunk:
        yield chunk


def pack_jobs(
    refs: Iterable[LedgerRef], size: int = JOB_SIZE, max_bytes: int = JOB_BYTES
) -> Iterator[tuple[str, list[str]]]:
    """(mailbox, Gmail ids of one job): each mailbox's messages, each id once, threads
    together and in the order given, jobs within ``size`` messages and ``max_bytes``."""
    mailboxes: dict[str, dict[str, list[LedgerRef]]] = {}
    seen: set[tuple[str, str]] = set()
    for ref in refs:
        if (ref.mailbox, ref.gmail_message_id) in seen:  # the same message twice
            continue
        seen.add((ref.mailbox, ref.gmail_message_id))
        thread = ref.gmail_thread_id or ref.gmail_message_id
        mailboxes.setdefault(ref.mailbox, {}).setdefault(thread, []).append(ref)
    for mailbox, threads in mailboxes.items():
        for job in _pack_threads(threads.values(), size, max_bytes):
            yield mailbox, job


def _pack_threads(
    threads: Iterable[list[LedgerRef]], size: int, max_bytes: int
) -> Iterator[list[str]]:
    current: list[str] = []
    current_bytes = 0
    for thread in threads:
        for part in bounded_chunks(thread, lambda ref: ref.size, size, max_bytes):
            part_bytes = sum(ref.size for ref in part)
            too_many = len(current) + len(part) > size
            if current and (too_many or current_bytes + part_bytes > max_bytes):
                yield current
                current, current_bytes = [], 0
            current += [ref.gmail_message_id for ref in part]
            current_bytes += part_bytes
    if current:
        yield current

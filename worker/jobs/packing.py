"""How staged messages are packed into ingest_batch jobs.

A job holds the raw bytes of all its messages in memory while it files them, and
mail with photos attached runs to megabytes a message: so a job is bounded by bytes
as well as by count. A message larger than the byte bound travels alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

from crm_core.inbox import StagedMessage

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


def job_chunks(
    gmail_ids: Iterable[str],
    sizes: Mapping[str, int] | None = None,
    size: int = JOB_SIZE,
    max_bytes: int = JOB_BYTES,
) -> Iterator[list[str]]:
    """``gmail_ids`` in order, in jobs of at most ``size`` messages and ``max_bytes``.

    ``sizes`` gives each message's raw size; an id it lacks counts as small.
    """
    known = sizes or {}
    return bounded_chunks(gmail_ids, lambda gmail_id: known.get(gmail_id, 0), size, max_bytes)


def thread_jobs(
    messages: Sequence[StagedMessage], size: int = JOB_SIZE, max_bytes: int = JOB_BYTES
) -> list[list[str]]:
    """Gmail ids in jobs within ``size`` and ``max_bytes``, each thread's messages
    together, each id once.

    Threads keep export order (oldest first in Takeout) inside, so a reply follows what
    it answers, and a thread's messages land in one job where they can: jobs that run
    at the same time then rarely create the same customer or conversation, which would
    make one wait for the other's commit.
    """
    threads: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for message in messages:
        if message.gmail_message_id in sizes:  # the same message twice in the export
            continue
        sizes[message.gmail_message_id] = len(message.raw)
        key = message.gmail_thread_id or message.gmail_message_id
        threads.setdefault(key, []).append(message.gmail_message_id)
    jobs: list[list[str]] = []
    current: list[str] = []
    current_bytes = 0
    for ids in threads.values():
        for part in job_chunks(ids, sizes, size, max_bytes):
            part_bytes = sum(sizes[gmail_id] for gmail_id in part)
            too_many = len(current) + len(part) > size
            if current and (too_many or current_bytes + part_bytes > max_bytes):
                jobs.append(current)
                current, current_bytes = [], 0
            current += part
            current_bytes += part_bytes
    if current:
        jobs.append(current)
    return jobs


def jobs_by_mailbox(staged: Iterable[tuple[str, str, int]]) -> Iterator[tuple[str, list[str]]]:
    """(mailbox, Gmail id, raw size), in order -> (mailbox, ids of one job): each
    mailbox's messages in jobs within the bounds, in the order given."""
    sizes: dict[str, dict[str, int]] = {}
    for mailbox, gmail_id, size in staged:
        sizes.setdefault(mailbox, {})[gmail_id] = size
    for mailbox, by_id in sizes.items():
        for job in job_chunks(by_id, by_id):
            yield mailbox, job

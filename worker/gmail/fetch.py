"""Fetching messages in raw format, many per batch request, retrying failed parts alone.

A batch answers each part separately: some parts may come back 429 or 5xx while the
rest succeed. The failed ids of a batch go back in the queue together, with one
backoff, and are sent again as one later batch (joined by other waiting ids), so a
failing message never holds up the others and nothing is dropped. A 404 means the
message was deleted after it was listed: it is reported as gone, not an error.
"""

from __future__ import annotations

import base64
import logging
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from googleapiclient.errors import HttpError

from worker.config import GmailSettings
from worker.gmail import requests
from worker.gmail.batch_sizer import BatchSizer
from worker.gmail.calls import GmailClient, describe, translate
from worker.gmail.errors import GmailRefusedError, GmailUnavailableError, is_retryable, status_of
from worker.gmail.quota import cost_of

log = logging.getLogger("worker.gmail")

# Gmail accepts up to 100 parts per batch but advises 50 at most to avoid rate limits.
MAX_BATCH = 50


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as ``messages.get(format=raw)`` returns it."""

    id: str
    thread_id: str | None
    label_ids: tuple[str, ...]
    internal_date_ms: int | None
    raw: bytes

    @classmethod
    def from_api(cls, resource: dict[str, Any]) -> RawMessage:
        encoded = str(resource.get("raw") or "")
        internal = resource.get("internalDate")
        return cls(
            id=str(resource["id"]),
            thread_id=resource.get("threadId"),
            label_ids=tuple(resource.get("labelIds") or ()),
            internal_date_ms=int(internal) if internal not in (None, "") else None,
            raw=base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)),
        )


@dataclass
class FetchedBatch:
    messages: list[RawMessage] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # 404: deleted since it was listed


@dataclass
class _Waiting:
    message_id: str
    failures: int = 0
    not_before: float = 0.0


def batch_size_for(client: GmailClient, configured: int) -> int:
    """The configured size, at most 50 and at most what one full quota bucket pays."""
    per_fill = client.bucket.calls_per_fill(cost_of("messages.get"))
    return max(1, min(configured, MAX_BATCH, per_fill))


def batch_sizer(client: GmailClient, gmail: GmailSettings) -> BatchSizer:
    """The sizer one sync keeps for all its batches (see batch_sizer.py)."""
    return BatchSizer(batch_size_for(client, gmail.batch_size), gmail.batch_max_bytes)


def fetch_raw(
    client: GmailClient, message_ids: Sequence[str], sizer: BatchSizer
) -> Iterator[FetchedBatch]:
    """Fetch every id; yield what each batch request brought (stage it before the next)."""
    queue: deque[_Waiting] = deque(_Waiting(m) for m in dict.fromkeys(message_ids))
    while queue:
        ready = _take_ready(queue, sizer.next_size())
        if not ready:
            client.sleep(max(0.0, min(w.not_before for w in queue) - time.monotonic()))
            continue
        try:
            parts = {w.message_id: requests.get_raw(w.message_id) for w in ready}
            answers = client.batch("messages.get", parts)
        except Exception as exc:
            if not is_retryable(exc):
                translated = translate(exc, "messages.get batch")
                if translated is exc:
                    raise
                raise translated from exc
            _retry_later(client, queue, ready, exc)
            continue
        fetched = _sort_answers(client, queue, ready, answers)
        sizer.observe([len(message.raw) for message in fetched.messages])
        yield fetched


def _take_ready(queue: deque[_Waiting], size: int) -> list[_Waiting]:
    now = time.monotonic()
    ready: list[_Waiting] = []
    for _ in range(len(queue)):
        waiting = queue.popleft()
        if waiting.not_before <= now and len(ready) < size:
            ready.append(waiting)
        else:
            queue.append(waiting)
    return ready


def _sort_answers(
    client: GmailClient,
    queue: deque[_Waiting],
    ready: list[_Waiting],
    answers: dict[str, Any | HttpError],
) -> FetchedBatch:
    fetched = FetchedBatch()
    failed: list[_Waiting] = []
    last_error: HttpError | None = None
    for waiting in ready:
        answer = answers.get(waiting.message_id)
        if answer is None:  # no part came back for it: ask again
            failed.append(waiting)
        elif not isinstance(answer, HttpError):
            fetched.messages.append(RawMessage.from_api(answer))
        elif status_of(answer) == 404:
            log.info("message gone before it was fetched", extra={"gmail_id": waiting.message_id})
            fetched.gone.append(waiting.message_id)
        elif is_retryable(answer):
            failed.append(waiting)
            last_error = answer
        else:
            raise GmailRefusedError(f"messages.get {waiting.message_id}: {describe(answer)}")
    _retry_later(client, queue, failed, last_error)
    return fetched


def _retry_later(
    client: GmailClient,
    queue: deque[_Waiting],
    failed: list[_Waiting],
    exc: BaseException | None,
) -> None:
    """Queue ``failed`` again behind one shared backoff, so they go out as one batch."""
    if not failed:
        return
    for waiting in failed:
        waiting.failures += 1
        if waiting.failures >= client.policy.attempts:
            raise GmailUnavailableError(
                f"messages.get {waiting.message_id}: still failing after "
                f"{waiting.failures} attempts ({describe(exc)})"
            )
    client.usage.retries += len(failed)
    not_before = time.monotonic() + client.policy.delay(max(w.failures for w in failed))
    for waiting in failed:
        waiting.not_before = not_before
        queue.append(waiting)

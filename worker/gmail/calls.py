"""Executing Gmail requests: quota first, then the call, retried while Gmail says "later".

429s, 403 rate limits, 5xx answers and transport errors are retried with exponential
backoff and jitter (tenacity) and never dropped: when the attempts run out the call
raises GmailUnavailableError, a transient error, and the sync stops without moving its
cursor, so the next run does the work. An expired or revoked grant raises
NeedsReauthError at once, without retrying. Other HTTP errors (404, 400 …) go to the
caller, which knows what a 404 means where it asked.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from googleapiclient.errors import HttpError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from worker.gmail.errors import (
    GmailUnavailableError,
    NeedsReauthError,
    is_invalid_grant,
    is_rate_limited,
    is_retryable,
    reason_of,
    status_of,
)
from worker.gmail.quota import QuotaBucket, cost_of
from worker.gmail.service import GmailApi
from worker.observability.metrics import GMAIL_CALLS, GMAIL_QUOTA_UNITS, GMAIL_RATE_LIMITED

log = logging.getLogger("worker.gmail")

# Builds one request: ``lambda api: api.users.getProfile(userId="me")`` (see requests.py).
RequestFactory = Callable[[GmailApi], Any]


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per call and the backoff between them (seconds, doubling, plus jitter)."""

    attempts: int = 8
    initial: float = 0.5
    maximum: float = 32.0
    jitter: float = 0.5

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failure of one call (1, 2, …)."""
        base = min(self.maximum, self.initial * 2.0 ** max(0, failures - 1))
        return base + random.uniform(0, self.jitter)


@dataclass
class Usage:
    """What this client spent: quota units and calls by method, retries, throttling."""

    units: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    rate_limited: int = 0

    @property
    def total_units(self) -> int:
        return sum(self.units.values())


class GmailClient:
    """One mailbox's Gmail service with its quota bucket and retry policy.

    Not thread-safe (the service's httplib2 connection is not): one per sync.
    ``heartbeat`` is called before every attempt; the sync renews its lease there.
    """

    def __init__(
        self,
        service: Any,
        bucket: QuotaBucket,
        *,
        policy: RetryPolicy | None = None,
        heartbeat: Callable[[], None] = lambda: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = GmailApi(service)
        self.bucket = bucket
        self.policy = policy or RetryPolicy()
        self.heartbeat = heartbeat
        self.sleep = sleep
        self.usage = Usage()
        # The MailboxCredentials behind the service, when open_client built it.
        self.credentials: Any = None
        self._waited_before = bucket.waited

    @property
    def quota_wait_seconds(self) -> float:
        """Seconds this client waited for quota (the bucket may be shared)."""
        return self.bucket.waited - self._waited_before

    def _spend(self, method: str, count: int = 1) -> None:
        self.heartbeat()
        units = cost_of(method, count)
        self.bucket.spend(units)
        self.usage.units[method] += units
        self.usage.calls[method] += count
        GMAIL_CALLS.labels(method).inc(count)
        GMAIL_QUOTA_UNITS.labels(method).inc(units)

    def note_error(self, exc: BaseException) -> None:
        """Count a failed attempt; a rate limit also empties the bucket."""
        if isinstance(exc, HttpError) and exc.resp is not None and is_rate_limited(exc):
            self.usage.rate_limited += 1
            GMAIL_RATE_LIMITED.inc()
            self.bucket.drain()

    def call(
        self,
        method: str,
        make: RequestFactory,
        retry_on: Callable[[BaseException], bool] = is_retryable,
    ) -> Any:
        """Execute one request, retrying what is worth retrying; returns the JSON answer.

        Sends pass ``retry_on=is_retryable_answer``: Gmail's "later" (429, 5xx) is
        retried, a lost connection is not (Gmail may have accepted the request)."""
        retrying = Retrying(
            retry=retry_if_exception(retry_on),
            stop=stop_after_attempt(self.policy.attempts),
            wait=lambda state: self.policy.delay(state.attempt_number),
            sleep=self.sleep,
            before_sleep=self._before_retry(method),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self._spend(method)
                    try:
                        return make(self.api).execute(num_retries=0)
                    except Exception as exc:
                        self.note_error(exc)
                        raise
        except Exception as exc:
            translated = translate(exc, method)
            if translated is exc:
                raise
            raise translated from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _before_retry(self, method: str) -> Callable[[RetryCallState], None]:
        def before_sleep(state: RetryCallState) -> None:
            self.usage.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "gmail call retried",
                extra={"method": method, "attempt": state.attempt_number, "error": describe(exc)},
            )

        return before_sleep

    def batch(
        self, method: str, requests: Mapping[str, RequestFactory]
    ) -> dict[str, Any | HttpError]:
        """Send ``requests`` as one batch; each key maps to its answer or its HttpError.

        The quota for every part is spent before sending. A failure of the batch as a
        whole (transport error, 5xx on the batch endpoint) raises; retrying parts and
        whole batches is the caller's business (see fetch.py).
        """
        keys = list(requests)
        self._spend(method, len(keys))
        if len(keys) == 1:
            return self._alone(keys[0], requests[keys[0]])
        results: dict[str, Any | HttpError] = {}

        def on_answer(request_id: str, response: Any, exception: HttpError | None) -> None:
            key = keys[int(request_id)]
            if exception is not None:
                self.note_error(exception)
                results[key] = exception
            else:
                results[key] = response

        batch = self.api.new_batch(on_answer)
        for index, key in enumerate(keys):
            batch.add(requests[key](self.api), request_id=str(index))
        try:
            batch.execute()
        except Exception as exc:
            self.note_error(exc)
            arrived = _arrived(batch, keys)
            if not arrived:
                raise
            # The rest have no answer: the caller asks for them again.
            log.info(
                "batch failed after some parts arrived",
                extra={"method": method, "kept": len(arrived), "error": describe(exc)},
            )
            return arrived
        return results

    def _alone(self, key: str, make: RequestFactory) -> dict[str, Any | HttpError]:
        """A batch of one, sent as a plain request: the library holds a batch answer in
        memory several times over while it takes it apart, so a large message fetched
        alone peaks at about half the memory this way (bench/memory.py)."""
        try:
            return {key: make(self.api).execute(num_retries=0)}
        except HttpError as exc:
            self.note_error(exc)
            return {key: exc}
        except Exception as exc:
            self.note_error(exc)
            raise


def _arrived(batch: Any, keys: list[str]) -> dict[str, Any]:
    """The parts of a failed batch that had been answered with success.

    The library answers 401 parts by refreshing the credentials and sending those parts
    again, inside ``execute()``; when that fails it raises without calling back for any
    part, although the others had arrived. Their answers are still held by the batch
    (``_responses``, by request id): keeping them saves fetching (and paying for) them
    again.
    """
    arrived: dict[str, Any] = {}
    responses = getattr(batch, "_responses", None) or {}
    for request_id, (resp, content) in responses.items():
        try:
            if int(resp.status) >= 300:
                continue
            arrived[keys[int(request_id)]] = batch._requests[request_id].postproc(resp, content)
        except Exception:  # noqa: S112 - a part that cannot be read is asked for again
            continue
    return arrived


def translate(exc: BaseException, method: str) -> BaseException:
    """The exception a sync should see for a call that finally failed."""
    if is_invalid_grant(exc):
        return NeedsReauthError(describe(exc))
    if is_retryable(exc):
        return GmailUnavailableError(f"{method}: {describe(exc)}")
    return exc


def describe(exc: BaseException | None) -> str:
    """Status and reason of a Gmail error, or the exception's type and first line.

    Never the response body or a token.
    """
    if exc is None:
        return ""
    if isinstance(exc, HttpError) and exc.resp is not None:
        return f"HTTP {status_of(exc)} {reason_of(exc) or ''}".strip()
    text = str(exc.args[0]) if exc.args else ""
    first_line = (text.strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"[:200]

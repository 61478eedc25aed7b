"""The reply job: ``send_reply(reply_id)`` on the "send" queue.

Sent with ``enqueue("send_reply", id)`` in the transaction that records (or
approves, or cancels) the reply, so it never runs for a reply that was not stored.
Safe to run twice: the reply's state decides what it does, and a send that was
started is looked up in the mailbox, never started again (worker/gmail/replies.py).
Transient failures (Gmail busy after its retries, the database away) are retried
with backoff; a reply whose job gave up stays queued, and a starting worker or
``crm reply resume`` sends its job again.
"""

from __future__ import annotations

import logging

from worker.gmail.errors import GmailUnavailableError
from worker.gmail.replies import deliver_reply
from worker.jobs.broker import job
from worker.jobs.transient import is_transient
from worker.runtime import get_runtime

log = logging.getLogger("worker.jobs")


def _retry_transient(retries: int, exc: BaseException) -> bool:
    transient = isinstance(exc, GmailUnavailableError) or is_transient(exc)
    return transient and retries < get_runtime().settings.worker.max_retries


@job("send_reply", retry_when=_retry_transient)
def send_reply(reply_id: str) -> None:
    delivery = deliver_reply(get_runtime(), reply_id)
    log.info(
        "reply job finished",
        extra={"reply": reply_id, "state": delivery.state.value},
    )

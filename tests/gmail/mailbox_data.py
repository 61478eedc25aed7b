"""A realistic mailbox for the fake: the benchmark generator's mix, delivered with its labels."""

from __future__ import annotations

from datetime import UTC
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.mailbox_generator import generate_mailbox
from crm_core.inbox import StagedMessage
from tests.gmail_fake import FakeGmailServer
from worker.importers.takeout import read_takeout

MAILBOX = "info@rendetalje.dk"


@cache
def generated(count: int, seed: int = 0) -> tuple[StagedMessage, ...]:
    """``count`` messages (leads, threads, noise, spam, bounces, malformed …), cached."""
    with TemporaryDirectory() as directory:
        path = Path(directory) / "mailbox.mbox"
        generate_mailbox(path, count, seed=seed)
        return tuple(read_takeout(path, MAILBOX))


def deliver_generated(server: FakeGmailServer, messages: tuple[StagedMessage, ...]) -> list[str]:
    """Deliver in order; Gmail ids are the fake's own, threads follow the references."""
    ids = []
    for message in messages:
        when = message.received_at
        ids.append(
            server.deliver(
                MAILBOX,
                message.raw,
                labels=list(message.label_ids) or ["INBOX"],
                internal_date=int(when.astimezone(UTC).timestamp() * 1000) if when else None,
            )
        )
    return ids

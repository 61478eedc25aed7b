"""Batch requests follow the sizes of the mail: photo-laden mail comes a few at a time.

Gmail names no sizes before fetching; a batch answer is held several times over in
memory while the client library takes it apart. The sizer starts with one message,
doubles, and keeps the typical message times the count within ``batch_max_bytes``.
"""

from __future__ import annotations

from collections import Counter
from email.message import EmailMessage

import pytest

from tests.conftest import Database
from tests.gmail.conftest import (
    FAST,
    MAILBOX,
    Account,
    customer_mail,
    emails_per_gmail_id,
    gmail_settings,
)
from tests.gmail_fake import FakeGmailServer
from worker.gmail.batch_sizer import BatchSizer
from worker.gmail.sync import sync_mailbox
from worker.jobs.broker import install_broker
from worker.runtime import Runtime, use_settings

KB = 1024
BUDGET = 1024 * KB


def photo_mail(n: int, photo_bytes: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Kunde {n} <kunde{n}@example.net>"
    message["To"] = MAILBOX
    message["Subject"] = f"Billeder af lejligheden {n}"
    message["Message-ID"] = f"<photo{n}@example.net>"
    message.set_content("Her er billederne, så I kan se hvor meget der skal gøres.")
    photo = bytes(range(256)) * (photo_bytes // 256)
    message.add_attachment(photo, maintype="image", subtype="jpeg", filename=f"stue{n}.jpg")
    return message.as_bytes()


@pytest.fixture
def runtime(database: Database, gmail_server: FakeGmailServer, account: Account) -> Runtime:
    settings = gmail_settings(
        database, gmail_server, account.token_file.parent, batch_max_bytes=BUDGET
    )
    runtime = use_settings(settings)
    install_broker(settings)
    return runtime


# --------------------------------------------------------------------------- the sizer


def sizes_asked(sizer: BatchSizer, message_sizes: list[int]) -> list[int]:
    """Fetch ``message_sizes`` as fetch_raw does; the size of each batch."""
    asked: list[int] = []
    position = 0
    while position < len(message_sizes):
        batch = message_sizes[position : position + sizer.next_size()]
        asked.append(len(batch))
        sizer.observe(batch)
        position += len(batch)
    return asked


def test_small_mail_opens_up_to_full_batches() -> None:
    asked = sizes_asked(BatchSizer(50, 8 * 1024 * KB), [30 * KB] * 300)
    assert asked == [1, 2, 4, 8, 16, 32, 50, 50, 50, 50, 37]


def test_large_mail_narrows_batches_and_they_widen_again_step_by_step() -> None:
    sizer = BatchSizer(50, 8 * 1024 * KB)
    sizer.observe([30 * KB] * 25)
    assert sizer.next_size() == 50
    sizer.observe([4 * 1024 * KB] * 50)  # fifty photo mails
    assert sizer.next_size() == 2
    sizer.observe([40 * 1024 * KB])  # larger than the budget: still fetched, alone
    assert sizer.next_size() == 1
    widths = []
    for _ in range(8):
        size = sizer.next_size()
        widths.append(size)
        sizer.observe([30 * KB] * size)
    assert widths == [1, 1, 1, 1, 2, 4, 8, 16]  # the typical size halves per batch


def test_the_configured_size_is_the_ceiling() -> None:
    sizer = BatchSizer(10, 8 * 1024 * KB)
    assert sizes_asked(sizer, [1 * KB] * 40) == [1, 2, 4, 8, 10, 10, 5]


# --------------------------------------------------------------------------- in a sync


def test_a_mailbox_of_photos_is_fetched_within_the_budget(
    runtime: Runtime, gmail_server: FakeGmailServer
) -> None:
    sizes: dict[str, int] = {}
    for n in range(40):
        raw = photo_mail(n, 300 * KB) if 10 <= n < 30 else customer_mail(n)
        sizes[gmail_server.deliver(MAILBOX, raw)] = len(raw)

    report = sync_mailbox(runtime, MAILBOX, options=FAST)

    assert report.status == "ok" and report.fetched == 40
    batches = gmail_server.served_batches()
    assert Counter(i for batch in batches for i in batch) == Counter(list(sizes))  # each once
    assert len(batches[0]) == 1
    for batch in batches:
        if len(batch) > 1:
            assert sum(sizes[i] for i in batch) <= BUDGET
    assert max(len(batch) for batch in batches) >= 4  # small mail still batched
    # A batch of one goes as a plain request (half the memory for a large message).
    gets = [r for r in gmail_server.request_log() if r.method == "messages.get"]
    assert sum(not r.in_batch for r in gets) == sum(len(batch) == 1 for batch in batches) >= 1
    assert emails_per_gmail_id(runtime) == Counter(list(sizes))

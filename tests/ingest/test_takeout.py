"""Reading a Takeout export (Gmail ids in the API's form, thread ids, labels) and staging it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core.db import transaction
from crm_core.inbox import StagedMessage, stage_messages
from crm_core.models import ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from worker.importers.takeout import NotAnMboxError, read_takeout, takeout_headers

MAILBOX = "info@rendetalje.dk"


def _export(path: Path, *messages: bytes) -> Path:
    path.write_bytes(b"".join(messages))
    return path


def test_ids_and_labels_from_an_export(tmp_path: Path) -> None:
    mbox = _export(
        tmp_path / "all.mbox",
        b"From 1790483472630123456@xxx Mon Sep 29 09:14:03 +0000 2025\n"
        b"X-GM-THRID: 1790483472630123000\n"
        b"X-Gmail-Labels: Indbakke,Sent,Kategori:\n"
        b" Kunder,Opened,Category Updates\n"
        b"From: Mette Hansen <mette@example.dk>\n"
        b"Subject: Tilbud\n"
        b"\n"
        b"X-GM-THRID: 42\n"
        b"Hej\n"
        b"\n"
        b"From 1790483472630123999@xxx Tue Sep 30 10:00:00 +0000 2025\n"
        b"From: ole@example.dk\r\n"
        b"x-gmail-labels: =?UTF-8?Q?Kunder/R=C3=A6kkehus?=,Inbox\r\n"
        b"\r\n"
        b"Ingen tr\xc3\xa5d\r\n",
    )
    first, second = read_takeout(mbox, MAILBOX)

    assert first.gmail_message_id == format(1790483472630123456, "x")
    assert first.gmail_thread_id == format(1790483472630123000, "x")
    assert first.label_ids == ["Indbakke", "SENT", "Kategori: Kunder", "CATEGORY_UPDATES"]
    assert first.received_at is not None and first.received_at.isoformat().startswith(
        "2025-09-29T09:14:03"
    )
    assert first.raw.startswith(b"X-GM-THRID:") and b"Hej" in first.raw

    assert second.gmail_message_id == format(1790483472630123999, "x")
    assert second.gmail_thread_id is None  # the header in the body is not the message's
    assert second.label_ids == ["Kunder/Rækkehus", "INBOX"]


def test_a_plain_mbox_gets_stable_content_ids(tmp_path: Path) -> None:
    mbox = _export(
        tmp_path / "plain.mbox",
        b"From MAILER-DAEMON Mon Sep 29 09:14:03 2025\nFrom: a@example.dk\n\nHej\n",
    )
    (first,) = read_takeout(mbox, MAILBOX)
    (again,) = read_takeout(mbox, MAILBOX)
    assert first.gmail_message_id.startswith("sha256:")
    assert first.gmail_message_id == again.gmail_message_id
    assert first.gmail_thread_id is None and first.label_ids == []


def test_headers_without_a_body_and_the_first_of_two() -> None:
    assert takeout_headers(b"X-GM-THRID: 7\nX-GM-THRID: 8") == ("7", "")
    assert takeout_headers(b"Subject: x\n\nX-Gmail-Labels: Inbox\n") == ("", "")
    assert takeout_headers(b"") == ("", "")


def test_staging_keeps_every_field_and_each_message_once(database: Database) -> None:
    message = StagedMessage(
        mailbox="Info@Rendetalje.dk",
        gmail_message_id="18d8f1a2b3c4d5e0",
        gmail_thread_id="18d8f1a2b3c4d000",
        label_ids=["INBOX", "Kunder/Rækkehus"],
        raw=b"Subject: hej\r\n\r\n\x00\xff bytes kept as they came",
        source="mbox",
        received_at=datetime(2025, 9, 29, 9, 14, 3, tzinfo=UTC),
    )
    other = StagedMessage(MAILBOX, "18d8f1a2b3c4d5e1", b"x", "mbox")
    with transaction(database.sessions) as session:
        assert sorted(stage_messages(session, [message, other, message])) == [
            "18d8f1a2b3c4d5e0",
            "18d8f1a2b3c4d5e1",
        ]
    with transaction(database.sessions) as session:
        assert stage_messages(session, [other, message]) == []
        row = session.execute(
            select(ReceivedMessage).where(ReceivedMessage.gmail_message_id == "18d8f1a2b3c4d5e0")
        ).scalar_one()
        assert (row.mailbox, row.gmail_thread_id, row.label_ids) == (
            MAILBOX,
            "18d8f1a2b3c4d000",
            ["INBOX", "Kunder/Rækkehus"],
        )
        assert row.raw == message.raw and row.size == len(message.raw)
        assert row.received_at == message.received_at
        assert (row.outcome, row.attempts, row.source) == (IngestOutcome.PENDING, 0, "mbox")
        assert session.execute(select(func.count()).select_from(ReceivedMessage)).scalar() == 2


def test_reading_a_file_that_is_not_an_mbox_raises(tmp_path: Path) -> None:
    spreadsheet = tmp_path / "kunder.csv"
    spreadsheet.write_text("navn,email\nAnna,anna@example.net\n")
    with pytest.raises(NotAnMboxError, match=r"kunder\.csv is not an mbox file"):
        list(read_takeout(spreadsheet, MAILBOX))

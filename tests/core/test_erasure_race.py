"""Mail from a person arriving while they are erased (PostgreSQL, real concurrent
transactions): it ends either erased or as a new, separate customer, never half.

Each race is forced, not hoped for: one transaction does its part and waits, the
other is started and seen (in pg_stat_activity) waiting for a row lock, then the
first commits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crm_core.db import transaction
from crm_core.inbox import StagedMessage, claim_received_message, stage_messages
from crm_core.models import Conversation, Customer, EmailMessage, ReceivedMessage
from crm_core.privacy import erase_subject, file_hasher
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from tests.ingest.conftest import settings_for
from worker.config import Settings
from worker.ingest.pipeline import ingest_received

MAILBOX = "info@rendetalje.dk"
ADDRESS = "karen.race@example.org"
THREAD = "thread-race"


def _raw(n: int) -> bytes:
    moment = datetime(2025, 5, 1, 9, n, tzinfo=UTC)
    return (
        f"From: Karen Race <{ADDRESS}>\r\nTo: {MAILBOX}\r\nSubject: Vinduer {n}\r\n"
        f"Message-ID: <race{n}@example.org>\r\nDate: {format_datetime(moment)}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nKan I komme i morgen?\r\n"
    ).encode()


def _stage(database: Database, n: int) -> str:
    gmail_id = f"race-{n}"
    with transaction(database.sessions) as session:
        stage_messages(
            session, [StagedMessage(MAILBOX, gmail_id, _raw(n), "gmail", gmail_thread_id=THREAD)]
        )
    return gmail_id


def _ingest(session: Session, settings: Settings, gmail_id: str) -> None:
    received = claim_received_message(session, MAILBOX, gmail_id)
    assert received is not None
    ingest_received(session, received, settings.ingest_rules(), settings.limits.parse_limits())


def _backend_pid(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _wait_until_blocked(database: Database, pid: list[int]) -> None:
    """Until the other transaction waits for a lock (a guard against a hang, not a
    measurement: the test fails only if it never does)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if pid:
            with database.engine.connect() as connection:
                waiting = connection.execute(
                    text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": pid[0]},
                ).scalar()
            if waiting == "Lock":
                return
        time.sleep(0.02)
    pytest.fail("the second transaction never waited for the first")


def _in_thread(work: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _outcomes(database: Database) -> dict[str, IngestOutcome]:
    with database.sessions() as session:
        rows = session.execute(select(ReceivedMessage.gmail_message_id, ReceivedMessage.outcome))
        return {gmail_id: outcome for gmail_id, outcome in rows}


def _customers(database: Database) -> list[tuple[str, int]]:
    """(customer id, messages) of every customer with the address."""
    with database.sessions() as session:
        rows = session.execute(
            select(Customer.id, func.count(EmailMessage.id))
            .outerjoin(Conversation, Conversation.customer_id == Customer.id)
            .outerjoin(EmailMessage, EmailMessage.conversation_id == Conversation.id)
            .where(Customer.email_normalized == ADDRESS)
            .group_by(Customer.id)
        )
        return [(customer_id, int(n)) for customer_id, n in rows]


@pytest.fixture
def settings(pg_database: Database, tmp_path: Path) -> Settings:
    return settings_for(pg_database, privacy={"hash_key_file": str(tmp_path / "key")})


def _known_person(database: Database, settings: Settings) -> str:
    first = _stage(database, 1)
    with transaction(database.sessions) as session:
        _ingest(session, settings, first)
    ((customer_id, messages),) = _customers(database)
    assert messages == 1
    return customer_id


def test_mail_during_an_erasure_waits_and_becomes_a_new_customer(
    pg_database: Database, settings: Settings
) -> None:
    erased_id = _known_person(pg_database, settings)
    arriving = _stage(pg_database, 2)
    hasher = file_hasher(settings.privacy.hash_key_file, create=True)
    erased, release = threading.Event(), threading.Event()
    ingest_pid: list[int] = []

    def erase() -> None:
        with transaction(pg_database.sessions) as session:
            erase_subject(session, ADDRESS, hasher)
            erased.set()
            assert release.wait(60)

    def ingest() -> None:
        with transaction(pg_database.sessions) as session:
            ingest_pid.append(_backend_pid(session))
            _ingest(session, settings, arriving)

    eraser, erase_errors = _in_thread(erase)
    assert erased.wait(60)
    ingester, ingest_errors = _in_thread(ingest)
    _wait_until_blocked(pg_database, ingest_pid)
    release.set()
    eraser.join(60)
    ingester.join(60)
    assert erase_errors == [] and ingest_errors == []

    ((new_id, messages),) = _customers(pg_database)
    assert new_id != erased_id and messages == 1
    assert _outcomes(pg_database) == {
        "race-1": IngestOutcome.ERASED,
        arriving: IngestOutcome.STORED,
    }


def test_mail_stored_before_the_erasure_locks_is_erased_with_the_rest(
    pg_database: Database, settings: Settings
) -> None:
    _known_person(pg_database, settings)
    arriving = _stage(pg_database, 2)
    hasher = file_hasher(settings.privacy.hash_key_file, create=True)
    ingested, release = threading.Event(), threading.Event()
    erase_pid: list[int] = []

    def ingest() -> None:
        with transaction(pg_database.sessions) as session:
            _ingest(session, settings, arriving)
            ingested.set()
            assert release.wait(60)

    def erase() -> None:
        with transaction(pg_database.sessions) as session:
            erase_pid.append(_backend_pid(session))
            result = erase_subject(session, ADDRESS, hasher)
            assert result.counts["messages"] == 2  # the one that arrived as well

    ingester, ingest_errors = _in_thread(ingest)
    assert ingested.wait(60)
    eraser, erase_errors = _in_thread(erase)
    _wait_until_blocked(pg_database, erase_pid)
    release.set()
    ingester.join(60)
    eraser.join(60)
    assert ingest_errors == [] and erase_errors == []

    assert _customers(pg_database) == []
    assert _outcomes(pg_database) == {
        "race-1": IngestOutcome.ERASED,
        arriving: IngestOutcome.ERASED,
    }
    with pg_database.sessions() as session:
        assert session.execute(select(func.count(EmailMessage.id))).scalar_one() == 0

"""Messages staged but never sent to a job are found and ingested by a resume."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from crm_core.inbox import stage_messages
from crm_core.models import EmailMessage, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.ingest.test_sample_mailbox import SAMPLES
from worker.importers.takeout import read_takeout
from worker.jobs.actors import ingest_batch
from worker.jobs.resume import resend_pending
from worker.runtime import Runtime


def pending(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.execute(
            select(func.count())
            .select_from(ReceivedMessage)
            .where(ReceivedMessage.outcome == IngestOutcome.PENDING)
        ).scalar_one()


def test_resume_ingests_what_the_queue_lost(runtime: Runtime) -> None:
    messages = list(read_takeout(SAMPLES / "rendetalje.mbox", "info@rendetalje.dk"))
    with runtime.sessions() as session, session.begin():
        stage_messages(session, messages)  # staged, but no job was ever sent
    assert pending(runtime) == len(messages)

    assert resend_pending(runtime, older_than_seconds=3600) == 0  # too recent: left alone
    assert resend_pending(runtime, older_than_seconds=0) == len(messages)
    assert pending(runtime) == 0
    assert resend_pending(runtime, older_than_seconds=0) == 0


def test_a_job_naming_a_message_twice_files_it_once(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    messages = list(read_takeout(SAMPLES / "rendetalje.mbox", "info@rendetalje.dk"))[:2]
    first, second = (m.gmail_message_id for m in messages)
    with runtime.sessions() as session, session.begin():
        stage_messages(session, messages)
    with caplog.at_level(logging.WARNING, logger="worker"):
        ingest_batch.send("info@rendetalje.dk", [first, second, first])
    assert pending(runtime) == 0
    assert [r.getMessage() for r in caplog.records] == []  # filed as one batch, not split
    with runtime.sessions() as session:
        stored = session.execute(select(EmailMessage.gmail_message_id)).scalars().all()
    assert stored and len(stored) == len(set(stored)) and set(stored) <= {first, second}

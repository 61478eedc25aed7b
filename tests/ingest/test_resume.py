"""Messages staged but never sent to a job are found and ingested by a resume."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_core.inbox import stage_messages
from crm_core.models import ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.ingest.test_sample_mailbox import SAMPLES
from worker.importers.takeout import read_takeout
from worker.jobs.resume import resend_pending
from worker.jobs.runtime import Runtime


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

"""An ingest job whose transient retries run out quarantines its messages, visibly.

Real Dramatiq workers on Redis and PostgreSQL; the fault is the database failing on
every attempt (an OperationalError, as when the server is gone), injected where
ingestion writes. Afterwards nothing is left pending or lost: every message is in
quarantine with the reason, and a retry once the database is back stores it.
"""

from __future__ import annotations

from typing import NoReturn

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from crm_core.inbox import reset_for_retry, stage_messages
from crm_core.models import EmailMessage, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.conftest import Database
from tests.gmail.workers import IngestWorkers
from tests.ingest.conftest import settings_for
from tests.ingest.test_sample_mailbox import SAMPLES
from worker.importers.takeout import read_takeout
from worker.jobs import actors
from worker.jobs.broker import install_broker
from worker.jobs.runtime import Runtime, use_settings

MAILBOX = "info@rendetalje.dk"
MAX_RETRIES = 1  # two attempts per job


@pytest.fixture
def database(pg_database: Database) -> Database:
    return pg_database


@pytest.fixture
def runtime(database: Database) -> Runtime:
    settings = settings_for(
        database,
        worker={"max_retries": MAX_RETRIES, "min_backoff_ms": 10, "max_backoff_ms": 50},
    )
    runtime = use_settings(settings)
    install_broker(settings)
    return runtime


def database_gone(*args: object, **kwargs: object) -> NoReturn:
    raise OperationalError("INSERT", {}, Exception("server closed the connection"))


def ledger(runtime: Runtime) -> dict[str, tuple[IngestOutcome, str | None]]:
    with runtime.sessions() as session:
        rows = session.execute(select(ReceivedMessage)).scalars()
        return {r.gmail_message_id: (r.outcome, r.reason) for r in rows}


def stored_ids(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return list(session.execute(select(EmailMessage.gmail_message_id)).scalars())


def test_exhausted_jobs_quarantine_their_messages_and_a_retry_stores_them(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = list(read_takeout(SAMPLES / "rendetalje.mbox", MAILBOX))[:6]
    ids = [m.gmail_message_id for m in messages]
    with runtime.sessions() as session, session.begin():
        stage_messages(session, messages)

    with monkeypatch.context() as patched:
        patched.setattr(actors, "ingest_many", database_gone)
        patched.setattr(actors, "ingest_received", database_gone)
        with IngestWorkers(runtime) as workers:
            actors.ingest_batch.send(MAILBOX, ids[:5])
            actors.ingest_message.send(MAILBOX, ids[5])
            workers.join()

    after = ledger(runtime)
    assert {gid: outcome for gid, (outcome, _) in after.items()} == dict.fromkeys(
        ids, IngestOutcome.QUARANTINED
    )
    reasons = {reason for _, reason in after.values()}
    assert reasons == {
        f"gave up after {MAX_RETRIES + 1} attempts: the database or the broker kept failing"
    }
    assert stored_ids(runtime) == []

    with IngestWorkers(runtime) as workers:
        with runtime.sessions() as session, session.begin():
            for gid in ids:
                row = session.execute(
                    select(ReceivedMessage).where(ReceivedMessage.gmail_message_id == gid)
                ).scalar_one()
                reset_for_retry(session, row.id)
        for gid in ids:
            actors.ingest_message.send(MAILBOX, gid)
        workers.join()

    outcomes = {gid: outcome for gid, (outcome, _) in ledger(runtime).items()}
    assert set(outcomes.values()) <= {IngestOutcome.STORED, IngestOutcome.SKIPPED}
    stored = {gid for gid, outcome in outcomes.items() if outcome == IngestOutcome.STORED}
    assert stored and sorted(stored_ids(runtime)) == sorted(stored)

def test_a_message_filed_meanwhile_keeps_its_outcome(runtime: Runtime) -> None:
    messages = list(read_takeout(SAMPLES / "rendetalje.mbox", MAILBOX))[:2]
    ids = [m.gmail_message_id for m in messages]
    with runtime.sessions() as session, session.begin():
        stage_messages(session, messages)
    actors.ingest_message.send(MAILBOX, ids[0])  # inline broker: filed now

    exhausted = actors.ingest_batch.message(MAILBOX, ids).asdict()
    actors.ingest_gave_up.send(exhausted, {"retries": MAX_RETRIES, "max_retries": MAX_RETRIES})

    after = ledger(runtime)
    assert after[ids[0]][0] != IngestOutcome.QUARANTINED
    assert after[ids[1]][0] == IngestOutcome.QUARANTINED

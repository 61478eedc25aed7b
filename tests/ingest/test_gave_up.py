"""An ingest job whose transient retries run out loses nothing and needs no one.

Real Dramatiq workers on Redis and PostgreSQL; the fault is the database failing on
every attempt (an OperationalError, as when the server is gone), injected where
ingestion writes. The messages stay pending with the reason and the resume files
them once the database is back; a message that keeps failing round after round goes
to quarantine, where a retry stores it after the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from tenacity import Retrying, stop_after_attempt

from crm_core.inbox import reset_for_retry, stage_messages
from crm_core.models import EmailMessage, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.gmail.workers import IngestWorkers
from tests.ingest.conftest import settings_for
from tests.ingest.test_sample_mailbox import SAMPLES
from worker.importers.takeout import read_takeout
from worker.jobs import actors
from worker.jobs.broker import install_broker
from worker.jobs.resume import resend_pending
from worker.jobs.runtime import Runtime, use_settings
from worker.observability.metrics import render

MAILBOX = "info@rendetalje.dk"
MAX_RETRIES = 1  # two attempts per job
REASON = "gave up {} of 3 times: the database or the broker kept failing"


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


@pytest.fixture(autouse=True)
def one_quick_try(monkeypatch: pytest.MonkeyPatch) -> None:
    """No in-process retries with their waits: the job's own retries are under test."""
    monkeypatch.setattr(
        actors, "quick_retries", lambda: Retrying(stop=stop_after_attempt(1), reraise=True)
    )


def database_gone(*args: object, **kwargs: object) -> NoReturn:
    raise OperationalError("INSERT", {}, Exception("server closed the connection"))


@contextmanager
def database_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as patched:
        patched.setattr(actors, "ingest_many", database_gone)
        patched.setattr(actors, "ingest_received", database_gone)
        yield


def staged_sample(runtime: Runtime, count: int) -> list[str]:
    messages = list(read_takeout(SAMPLES / "rendetalje.mbox", MAILBOX))[:count]
    with runtime.sessions() as session, session.begin():
        stage_messages(session, messages)
    return [m.gmail_message_id for m in messages]


def ledger(runtime: Runtime) -> dict[str, tuple[IngestOutcome, str | None]]:
    with runtime.sessions() as session:
        rows = session.execute(select(ReceivedMessage)).scalars()
        return {r.gmail_message_id: (r.outcome, r.reason) for r in rows}


def assert_filed(runtime: Runtime) -> None:
    """Every message has its final outcome, and each stored one is stored once."""
    outcomes = {gid: outcome for gid, (outcome, _) in ledger(runtime).items()}
    assert set(outcomes.values()) <= {IngestOutcome.STORED, IngestOutcome.SKIPPED}
    stored = {gid for gid, outcome in outcomes.items() if outcome == IngestOutcome.STORED}
    with runtime.sessions() as session:
        rows = list(session.execute(select(EmailMessage.gmail_message_id)).scalars())
    assert stored and sorted(rows) == sorted(stored)


def test_after_an_outage_the_resume_files_what_the_jobs_gave_up_on(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    ids = staged_sample(runtime, 6)
    with database_down(monkeypatch), IngestWorkers(runtime) as workers:
        actors.ingest_batch.send(MAILBOX, ids[:5])
        actors.ingest_message.send(MAILBOX, ids[5])
        workers.join()

    assert ledger(runtime) == dict.fromkeys(ids, (IngestOutcome.PENDING, REASON.format(1)))
    assert cli.json("status")["overall"]["pending_after_retries"] == len(ids)
    assert f"! {len(ids)} pending after their jobs ran out of retries" in cli("status")
    assert f"crm_messages_pending_after_retries {len(ids)}.0" in render(runtime.sessions).decode()

    with IngestWorkers(runtime) as workers:  # the database is back
        assert resend_pending(runtime, older_than_seconds=0) == len(ids)
        workers.join()
    assert_filed(runtime)
    assert cli.json("status")["overall"]["pending_after_retries"] == 0


def test_a_message_that_keeps_failing_goes_to_quarantine_and_a_retry_stores_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = staged_sample(runtime, 4)
    with database_down(monkeypatch), IngestWorkers(runtime) as workers:
        actors.ingest_batch.send(MAILBOX, ids)
        workers.join()
        for _ in range(2):  # the watcher's resume, round after round
            assert resend_pending(runtime, older_than_seconds=0) == len(ids)
            workers.join()
        assert resend_pending(runtime, older_than_seconds=0) == 0  # nothing left pending

    assert ledger(runtime) == dict.fromkeys(ids, (IngestOutcome.QUARANTINED, REASON.format(3)))

    with IngestWorkers(runtime) as workers:  # fixed: `crm quarantine retry ID` for each
        with runtime.sessions() as session, session.begin():
            reset_for_retry(session, list(session.execute(select(ReceivedMessage.id)).scalars()))
        for gid in ids:
            actors.ingest_message.send(MAILBOX, gid)
        workers.join()
    assert_filed(runtime)


def test_a_message_filed_meanwhile_keeps_its_outcome(runtime: Runtime) -> None:
    first, second = staged_sample(runtime, 2)
    actors.ingest_message.send(MAILBOX, first)  # inline broker: filed now

    exhausted = actors.ingest_batch.message(MAILBOX, [first, second]).asdict()
    actors.ingest_gave_up.send(exhausted, {"retries": MAX_RETRIES, "max_retries": MAX_RETRIES})

    after = ledger(runtime)
    assert after[first][0] in {IngestOutcome.STORED, IngestOutcome.SKIPPED}
    assert after[first][1] != REASON.format(1)
    assert after[second] == (IngestOutcome.PENDING, REASON.format(1))

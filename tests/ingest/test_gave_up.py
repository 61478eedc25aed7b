"""An ingest job whose transient retries run out loses nothing and needs no one.

Real Dramatiq workers on Redis and PostgreSQL, and a real transient failure: the
workers connect as a role that waits at most 200 ms for a lock, and another session
holds the customers table locked (as a long migration or a stuck transaction would),
so every attempt to file a message onto a customer fails with lock_not_available
(55P03). The messages stay pending with the reason and the resume files them once
the lock is gone; a message that keeps failing round after round goes to quarantine,
where a retry stores it after the cause is fixed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import make_url, select, text
from tenacity import Retrying, stop_after_attempt

from crm_core.inbox import reset_for_retry, stage_messages
from crm_core.models import EmailMessage, ReceivedMessage
from crm_core.statuses import IngestOutcome
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.gmail.workers import IngestWorkers
from tests.ingest.conftest import settings_for
from tests.ingest.test_sample_mailbox import EXPECTED, SAMPLES
from worker.config import DatabaseSettings
from worker.database import engine_for
from worker.importers.takeout import gmail_id_from_decimal, read_takeout
from worker.jobs import actors
from worker.jobs.broker import install_broker
from worker.jobs.resume import resend_pending
from worker.observability.metrics import render
from worker.runtime import Runtime, use_settings

MAILBOX = "info@rendetalje.dk"
MAX_RETRIES = 1  # two attempts per job
REASON = "gave up {} of 3 times: the database or the broker kept failing"


@pytest.fixture
def database(pg_database: Database) -> Database:
    return pg_database


@pytest.fixture
def impatient_url(database: Database) -> Iterator[str]:
    """The test database as a role whose statements wait at most 200 ms for a lock."""
    role = f"crm_impatient_{uuid.uuid4().hex[:10]}"
    with database.engine.connect() as connection:
        for statement in (
            f"CREATE ROLE {role} LOGIN",
            f"ALTER ROLE {role} SET lock_timeout = '200ms'",
            f"GRANT USAGE ON SCHEMA {database.schema} TO {role}",
            f"GRANT ALL ON ALL TABLES IN SCHEMA {database.schema} TO {role}",
            # The webhook outbox numbers its events from a sequence.
            f"GRANT ALL ON ALL SEQUENCES IN SCHEMA {database.schema} TO {role}",
        ):
            connection.execute(text(statement))
        connection.commit()
    url = make_url(database.url).set(username=role).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        engine_for(DatabaseSettings(url=url, pg_schema=database.schema)).dispose()
        with database.engine.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))
            connection.commit()


@pytest.fixture
def runtime(database: Database, impatient_url: str) -> Runtime:
    settings = settings_for(
        database,
        worker={"max_retries": MAX_RETRIES, "min_backoff_ms": 10, "max_backoff_ms": 50},
    ).model_copy(
        update={"database": DatabaseSettings(url=impatient_url, pg_schema=database.schema)}
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


@contextmanager
def customers_locked(database: Database) -> Iterator[None]:
    """Another session holds the customers table: filing a message onto one times out."""
    with database.engine.connect() as connection:
        connection.execute(text("LOCK TABLE customers IN EXCLUSIVE MODE"))
        yield
        connection.rollback()


def staged_sample(runtime: Runtime, count: int) -> list[str]:
    """Stage ``count`` messages of the sample that file onto a customer."""
    onto_customer = {
        gmail_id_from_decimal(key)
        for key, expected in EXPECTED["messages"].items()
        if expected["kind"] in ("inbound", "outbound")
    }
    messages = [
        m
        for m in read_takeout(SAMPLES / "rendetalje.mbox", MAILBOX)
        if m.gmail_message_id in onto_customer
    ][:count]
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
    runtime: Runtime, database: Database, cli: Cli
) -> None:
    ids = staged_sample(runtime, 6)
    with customers_locked(database), IngestWorkers(runtime) as workers:
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
    runtime: Runtime, database: Database
) -> None:
    ids = staged_sample(runtime, 4)
    with customers_locked(database), IngestWorkers(runtime) as workers:
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

"""A bulk intake into an empty database leaves the planner knowing the tables' sizes.

Without statistics PostgreSQL plans each lookup by Gmail id as a scan of the whole
mailbox (see crm_core/planner.py); importing refreshes them as the tables grow.
"""

from __future__ import annotations

from sqlalchemy import text

from crm_core.inbox import StagedMessage
from crm_core.planner import GrowthWatch
from tests.conftest import Database
from tests.ingest.conftest import settings_for
from worker.importers.run import import_messages
from worker.jobs.broker import install_broker
from worker.runtime import use_settings

MAILBOX = "info@rendetalje.dk"


def test_statistics_are_refreshed_each_time_the_staged_volume_doubles() -> None:
    refreshed_at: list[int] = []
    seen = 0

    def refresh() -> None:
        refreshed_at.append(seen)

    watch = GrowthWatch(refresh, first=500)
    for _ in range(39):
        seen += 100
        watch.staged(100)
    assert refreshed_at == [500, 1000, 2000]


def _message(n: int) -> StagedMessage:
    raw = (
        f"From: Kunde {n} <kunde{n % 150}@example.dk>\r\n"
        f"To: {MAILBOX}\r\n"
        f"Subject: Rengøring nr. {n}\r\n"
        f"Message-ID: <m{n}@example.dk>\r\n"
        "Date: Mon, 29 Sep 2025 09:14:03 +0200\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hej, kan I gøre rent hos mig? ({n})\r\n"
    ).encode()
    return StagedMessage(
        mailbox=MAILBOX,
        gmail_message_id=f"{n:016x}",
        gmail_thread_id=f"{n // 3:016x}",
        label_ids=["INBOX"],
        raw=raw,
        source="mbox",
    )


def test_an_import_into_an_empty_database_leaves_planner_statistics(
    pg_database: Database,
) -> None:
    settings = settings_for(pg_database)
    runtime = use_settings(settings)
    install_broker(settings)

    summary = import_messages(runtime, (_message(n) for n in range(1200)))

    assert summary.messages == 1200
    assert summary.pending == 0
    with pg_database.engine.connect() as connection:
        known: dict[str, float] = {
            name: tuples
            for name, tuples in connection.execute(
                text(
                    "SELECT c.relname, c.reltuples FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :schema AND c.relname IN "
                    "('received_messages', 'email_messages', 'customers', 'conversations')"
                ),
                {"schema": pg_database.schema},
            )
        }
    # Analysed after the first 500 and again at 1,000 staged messages.
    assert known["received_messages"] >= 1000
    assert known["email_messages"] >= 500
    assert known["customers"] >= 100
    assert known["conversations"] >= 150

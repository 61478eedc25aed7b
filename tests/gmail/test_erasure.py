"""`crm privacy erase`: nothing of the person is left in a full dump of the database,
re-syncs from Gmail bring nothing back, revenue stays, suppression refuses new mail."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from crm_core import services
from crm_core.db import transaction
from crm_core.inbox import claim_received_message
from crm_core.models import (
    Booking,
    Conversation,
    Customer,
    EmailMessage,
    Erasure,
    Quote,
    ReceivedMessage,
    Suppression,
)
from crm_core.statuses import IngestOutcome, QuoteStatus
from tests.cli import conftest as cli_fixtures
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.gmail.conftest import FAST, MAILBOX, Account, customer_mail, ledger, sync
from tests.gmail.erasure_data import (
    ADDRESS,
    ALIAS,
    NAME,
    OTHER_ADDRESS,
    PHRASES,
    build_person,
    dump,
    found_in,
    her_mail,
    revenue_total,
)
from tests.gmail_fake import FakeGmailServer
from tests.ingest.conftest import settings_for
from worker.gmail.audit import audit_mailbox
from worker.ingest.pipeline import ingest_received
from worker.jobs.actors import update_customer_stats
from worker.jobs.broker import install_broker
from worker.runtime import Runtime, use_settings

cli = cli_fixtures.cli


@pytest.fixture
def runtime(
    database: Database, gmail_server: FakeGmailServer, account: Account, tmp_path: Path
) -> Runtime:
    """Jobs inline, Gmail at the fake, the privacy key where `crm` (run in tmp_path)
    keeps it by default."""
    settings = settings_for(
        database,
        gmail={
            "api_endpoint": gmail_server.url,
            "token_dir": str(account.token_file.parent),
            "quota_units_per_second": 100_000,
        },
        mailboxes=[{"address": MAILBOX}],
        privacy={"hash_key_file": str(tmp_path / "tokens" / "privacy-hash.key")},
    )
    runtime = use_settings(settings)
    install_broker(settings)
    return runtime


def _customers_with(runtime: Runtime, address: str) -> list[Customer]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Customer).where(Customer.email_normalized == address)))


def _erased_rows(runtime: Runtime) -> dict[str, ReceivedMessage]:
    return {g: r for g, r in ledger(runtime).items() if r.outcome is IngestOutcome.ERASED}


def _pg_search_traces(database: Database) -> tuple[int, int]:
    """Her names among the customers' words, and messages whose word pairs hold a
    word of her mail (PostgreSQL's search tables of migrations 0018 and 0019)."""
    with database.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM customer_search_words"
                " WHERE word IN ('birthe', 'kjærgaard')),"
                " (SELECT count(*) FROM message_search_pairs WHERE pairs::text LIKE '%tagrend%')"
            )
        ).one()
    return int(row[0]), int(row[1])


def test_erase_leaves_nothing_of_the_person_and_keeps_revenue(
    runtime: Runtime,
    gmail_server: FakeGmailServer,
    cli: Cli,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = build_person(runtime, gmail_server)
    monkeypatch.setenv("CRM_SENDING_MODE", "dry-run")
    body = tmp_path / "reply.txt"
    body.write_text("Vi sender en faktura for vinduespudsningen.", encoding="utf-8")
    cli("reply", person.conversation_id, "--body-file", str(body))
    before = dump(database)
    assert found_in(before, PHRASES) == PHRASES  # the check below can fail
    if database.kind == "postgresql":
        words, pairs = _pg_search_traces(database)
        assert words == 2 and pairs > 0
    top_before = cli.json("report", "top-customers", "--all")

    shown = json.loads(cli("privacy", "erase", ALIAS.upper(), "--yes", "--json"))

    assert shown["customer_id"] == person.customer_id
    assert shown["counts"] == {
        "customers": 2,  # she and her alias
        "leads": 2,  # linked, and the one without a customer from her address
        "notes": 3,  # on her, on her lead, and the one recording the merge
        "conversations": 2,
        "messages": 4,  # hers, our answer, from the alias, the reply written in the CRM
        "outbound_replies": 1,
        "quotes_removed": 1,
        "quotes_kept_anonymised": 1,
        "bookings_kept_anonymised": 1,
        "ledger_entries": 5,  # 3 stored, the spam one, the quarantined one naming her
    }
    after = dump(database)
    assert found_in(after, [*PHRASES, ADDRESS, ALIAS, NAME]) == []
    assert found_in(after, [OTHER_ADDRESS, "gøre rent hos os"]) == [
        OTHER_ADDRESS,
        "gøre rent hos os",
    ]
    if database.kind == "sqlite":
        with database.engine.connect() as connection:
            held = connection.execute(text("SELECT customer_id FROM customer_search_rows"))
            assert person.customer_id not in set(held.scalars())
            found = connection.execute(
                text("SELECT count(*) FROM customer_search WHERE doc LIKE :a"), {"a": "%birthe%"}
            )
            assert found.scalar_one() == 0
            # The words are gone from the index itself, not only from its row map.
            for word in ("tagrenderne", "urtepotten", "solsikkevej"):
                hits = connection.execute(
                    text("SELECT count(*) FROM message_search WHERE message_search MATCH :w"),
                    {"w": word},
                ).scalar_one()
                assert hits == 0
    else:
        with database.engine.connect() as connection:
            hits = connection.execute(
                text(
                    "SELECT count(*) FROM email_messages"
                    " WHERE search_vector @@ plainto_tsquery('simple', 'tagrenderne')"
                )
            ).scalar_one()
            assert hits == 0
        # Nor in the words side by side, nor among the customers' words.
        assert _pg_search_traces(database) == (0, 0)

    # Revenue: the same total, the accepted quote and booking now the placeholder's.
    with runtime.sessions() as session:
        assert revenue_total(session) == person.revenue_before
        placeholder = session.get(Customer, shown["placeholder_customer_id"])
        assert placeholder is not None and placeholder.email is None
        assert placeholder.phone is None and placeholder.address is None
        quote = session.execute(select(Quote).where(Quote.customer_id == placeholder.id)).one()[0]
        assert quote.status is QuoteStatus.ACCEPTED and quote.description is None
        assert quote.lead_id is None
        booking = session.execute(select(Booking).where(Booking.quote_id == quote.id)).one()[0]
        assert booking.customer_id == placeholder.id and booking.notes is None
        record = session.get(Erasure, shown["erasure_id"])
        assert record is not None and len(record.address_hashes) == 2
        assert not record.suppressed
        assert session.execute(select(func.count()).select_from(Suppression)).scalar_one() == 0
    top_after = cli.json("report", "top-customers", "--all")
    assert sum(float(c["total_revenue"]) for c in top_after) == sum(
        float(c["total_revenue"]) for c in top_before
    )
    cli("customer", "stats", "--all")  # recomputed from the rows: still the same
    with runtime.sessions() as session:
        assert revenue_total(session) == person.revenue_before
    key = tmp_path / "tokens" / "privacy-hash.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert cli.fails("privacy", "erase", ADDRESS, "--yes") == (
        f"Error: customer not found: {ADDRESS}"
    )


def test_resyncs_bring_nothing_back_and_new_mail_makes_a_new_customer(
    runtime: Runtime, gmail_server: FakeGmailServer, cli: Cli
) -> None:
    person = build_person(runtime, gmail_server)
    with runtime.sessions() as session:
        messages_before = session.execute(select(func.count(EmailMessage.id))).scalar_one()
    cli("privacy", "erase", person.customer_id, "--yes")
    with runtime.sessions() as session:
        messages_left = session.execute(select(func.count(EmailMessage.id))).scalar_one()
    assert messages_left == messages_before - 3
    erased = _erased_rows(runtime)
    assert set(person.gmail_ids) <= set(erased)
    assert all(row.raw == b"" and row.email_message_id is None for row in erased.values())

    gmail_server.reset_stats()
    report = sync(runtime, full=True)
    assert report.kind == "full" and report.fetched == 0
    # Gmail changes her messages: a partial sync applies labels, fetches nothing of hers.
    gmail_server.modify_labels(MAILBOX, person.gmail_ids[0], add=["STARRED"])
    gmail_server.modify_labels(MAILBOX, person.gmail_ids[3], add=["INBOX"], remove=["SPAM"])
    report = sync(runtime)
    assert report.kind == "partial" and report.fetched == 0
    assert set(_erased_rows(runtime)) == set(erased)
    assert _customers_with(runtime, ADDRESS) == []
    with runtime.sessions() as session:
        assert session.execute(select(func.count(EmailMessage.id))).scalar_one() == messages_left
        assert revenue_total(session) == person.revenue_before
    audit = audit_mailbox(runtime, MAILBOX, FAST)
    assert audit.clean and audit.outcomes["erased"] == 4

    # Without --suppress her next message makes a new, separate customer.
    new = gmail_server.deliver(MAILBOX, her_mail(10))
    sync(runtime)
    assert ledger(runtime)[new].outcome is IngestOutcome.STORED
    (again,) = _customers_with(runtime, ADDRESS)
    assert again.id != person.customer_id
    with runtime.sessions() as session:
        assert (
            session.execute(
                select(func.count(EmailMessage.id))
                .join(Conversation)
                .where(Conversation.customer_id == again.id)
            ).scalar_one()
            == 1
        )
    assert audit_mailbox(runtime, MAILBOX, FAST).clean


def test_jobs_in_flight_for_erased_messages_do_nothing(
    runtime: Runtime, gmail_server: FakeGmailServer, cli: Cli
) -> None:
    person = build_person(runtime, gmail_server)
    cli("privacy", "erase", ADDRESS, "--yes")
    with transaction(runtime.sessions) as session:
        row = claim_received_message(session, MAILBOX, person.gmail_ids[0])
        assert row is not None
        result = ingest_received(session, row, runtime.rules, runtime.limits)
        assert result.already_processed and result.outcome is IngestOutcome.ERASED
    update_customer_stats(person.customer_id)  # a stats job for the erased customer
    assert _customers_with(runtime, ADDRESS) == []
    assert ledger(runtime)[person.gmail_ids[0]].outcome is IngestOutcome.ERASED


def test_suppressed_address_mail_is_skipped_and_replies_refused(
    runtime: Runtime, gmail_server: FakeGmailServer, cli: Cli, tmp_path: Path
) -> None:
    person = build_person(runtime, gmail_server)
    shown = cli.json("privacy", "erase", ADDRESS, "--yes", "--suppress")
    assert shown["suppressed"] is True

    from_her = gmail_server.deliver(MAILBOX, her_mail(11))
    from_alias = gmail_server.deliver(
        MAILBOX, customer_mail(12).replace(b"kunde12@example.net", ALIAS.upper().encode())
    )
    from_someone = gmail_server.deliver(MAILBOX, customer_mail(13))
    sync(runtime)
    rows = ledger(runtime)
    for gmail_id in (from_her, from_alias):
        assert (rows[gmail_id].outcome, rows[gmail_id].reason) == (
            IngestOutcome.SKIPPED,
            "suppressed",
        )
        assert rows[gmail_id].raw == b""
    assert rows[from_someone].outcome is IngestOutcome.STORED
    assert _customers_with(runtime, ADDRESS) == [] and _customers_with(runtime, ALIAS) == []
    assert audit_mailbox(runtime, MAILBOX, FAST).clean

    # Someone types her in again by hand: a reply to her is refused all the same.
    with transaction(runtime.sessions) as session:
        again = services.create_customer(session, name="Birthe", email=ADDRESS)
        conversation = services.find_or_create_conversation(
            session, mailbox=MAILBOX, gmail_thread_id="by-hand", customer_id=again.id
        )
        conversation_id = conversation.id
    body = tmp_path / "reply.txt"
    body.write_text("Hej igen", encoding="utf-8")
    refused = cli.fails("reply", conversation_id, "--body-file", str(body))
    assert refused == (
        f"Error: {ADDRESS} was erased and suppressed at the person's request: "
        "nothing is sent to that address"
    )
    assert person.customer_id != again.id


def test_erase_asks_for_yes_and_a_dry_run_changes_nothing(
    runtime: Runtime, gmail_server: FakeGmailServer, cli: Cli, tmp_path: Path
) -> None:
    person = build_person(runtime, gmail_server)
    assert cli.fails("privacy", "erase", ADDRESS) == (
        f"Error: erasing {ADDRESS} cannot be undone: add --yes to erase, "
        "or --dry-run to see what goes"
    )
    shown = cli.json("privacy", "erase", ADDRESS, "--dry-run")
    assert shown["dry_run"] is True and shown["erasure_id"] is None
    assert shown["counts"]["messages"] == 3
    out = cli("privacy", "erase", ADDRESS, "--dry-run")
    assert "dry run: nothing changed" in out
    assert [c.id for c in _customers_with(runtime, ADDRESS)] == [person.customer_id]
    assert _erased_rows(runtime) == {}
    assert not (tmp_path / "tokens" / "privacy-hash.key").exists()
    assert cli.fails("privacy", "erase", "nobody@example.org", "--yes") == (
        "Error: customer not found: nobody@example.org"
    )


def test_without_the_key_suppressed_mail_waits_in_quarantine(
    runtime: Runtime, gmail_server: FakeGmailServer, cli: Cli, tmp_path: Path
) -> None:
    build_person(runtime, gmail_server)
    cli("privacy", "erase", ADDRESS, "--yes", "--suppress")
    key = tmp_path / "tokens" / "privacy-hash.key"
    kept = key.read_bytes()
    key.unlink()

    from_her = gmail_server.deliver(MAILBOX, her_mail(20))
    sync(use_settings(runtime.settings))  # a process started after the key went missing
    row = ledger(runtime)[from_her]
    assert row.outcome is IngestOutcome.QUARANTINED
    assert "privacy hash key" in str(row.reason) and "missing" in str(row.reason)
    assert _customers_with(runtime, ADDRESS) == []

    key.write_bytes(kept)
    os.chmod(key, 0o600)
    cli("quarantine", "retry", "--all")
    row = ledger(runtime)[from_her]
    assert (row.outcome, row.reason, row.raw) == (IngestOutcome.SKIPPED, "suppressed", b"")
    assert _customers_with(runtime, ADDRESS) == []


def test_customer_delete_points_at_erasure(cli: Cli) -> None:
    assert "crm privacy erase" in cli("customer", "delete", "--help")

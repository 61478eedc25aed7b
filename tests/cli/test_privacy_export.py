"""`crm privacy export`: the zip holds every row held about the person and nothing of
anyone else's."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from crm_core import services
from crm_core.inbox import StagedMessage, record_outcome, stage_messages
from crm_core.models import (
    Booking,
    Conversation,
    Customer,
    EmailMessage,
    Lead,
    Note,
    Quote,
    ReceivedMessage,
)
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import SAMPLES

SAMPLE = str(SAMPLES / "rendetalje.mbox")


def _with_mail(session: Any) -> list[tuple[Customer, int]]:
    """Customers with stored mail, the most messages first."""
    rows = session.execute(
        select(Customer, func.count(EmailMessage.id))
        .join(Conversation, Conversation.customer_id == Customer.id)
        .join(EmailMessage, EmailMessage.conversation_id == Conversation.id)
        .group_by(Customer.id)
        .order_by(func.count(EmailMessage.id).desc(), Customer.id)
    )
    return [(c, n) for c, n in rows]


def _raw_of(session: Any, customer_id: str) -> bytes:
    rows = session.scalars(
        select(ReceivedMessage.raw)
        .join(EmailMessage, EmailMessage.id == ReceivedMessage.email_message_id)
        .join(Conversation, Conversation.id == EmailMessage.conversation_id)
        .where(Conversation.customer_id == customer_id)
    )
    return b"".join(bytes(r) for r in rows).lower()


def _ids(session: Any, statement: Any) -> set[str]:
    return set(session.scalars(statement))


def test_export_holds_everything_of_the_person_and_nothing_else(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    cli("import", "mbox", SAMPLE)
    with database.sessions() as session, session.begin():
        ranked = _with_mail(session)
        person = ranked[0][0]
        mine = _raw_of(session, person.id)
        # Someone else with mail, whose address the person's mail never mentions.
        other = next(
            c
            for c, _ in ranked[1:]
            if c.email_normalized and c.email_normalized.encode() not in mine
        )
        person_id, other_id = person.id, other.id
        person_address = str(person.email_normalized)
        other_address = str(other.email_normalized)
        # An alias (a customer merged into the person), a lead, a quote, a booking, notes.
        alias = services.create_customer(session, name="Same Person", email="alias-pp@example.net")
        session.flush()
        services.merge_customers(session, person_id, alias.id)
        lead = services.create_lead(
            session,
            source="manual",
            name="Same Person",
            email=person_address,
        )
        services.link_lead_to_customer(session, lead.id, person_id)
        session.flush()
        quote = services.create_quote(
            session, total="1234.50", lead_id=lead.id, customer_id=person_id
        )
        services.create_booking(
            session,
            scheduled_at=utcnow() + timedelta(days=3),
            customer_id=person_id,
            quote_id=quote.id,
        )
        services.add_note(session, "customer", person_id, "Prefers mornings")
        services.add_note(session, "lead", lead.id, "Called back")
        # The other customer gets the same kinds of rows, none of which may leak.
        other_lead = services.create_lead(
            session,
            source="manual",
            name="Other",
            email=other_address,
        )
        services.link_lead_to_customer(session, other_lead.id, other_id)
        session.flush()
        services.add_note(session, "customer", other_id, "Not to be exported")
        services.create_quote(session, total="99.00", lead_id=other_lead.id, customer_id=other_id)
        # A quarantined message that mentions the person's address, one that does not.
        stage_messages(
            session,
            [
                StagedMessage(
                    "info@rendetalje.dk",
                    "q-mine",
                    b"From: X <" + person_address.upper().encode() + b">\r\n\r\nbroken",
                    "gmail",
                ),
                StagedMessage(
                    "info@rendetalje.dk",
                    "q-other",
                    b"From: <" + other_address.encode() + b">\r\n\r\nbroken",
                    "gmail",
                ),
            ],
        )
        session.flush()
        for row in session.scalars(
            select(ReceivedMessage).where(
                ReceivedMessage.gmail_message_id.in_(["q-mine", "q-other"])
            )
        ):
            record_outcome(row, IngestOutcome.QUARANTINED, "test")
        alias_id = alias.id

    out = tmp_path / "person.zip"
    shown = cli("privacy", "export", "ALIAS-PP@example.net", "--out", str(out), "--with-raw")
    assert f"Exported customer {person_id} to {out}" in shown
    assert out.stat().st_mode & 0o777 == 0o600  # personal data: the owner only
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        data = json.loads(archive.read("data.json"))
        everything = b"".join(archive.read(name) for name in names).lower()
        emls = {name: archive.read(name) for name in names if name.endswith(".eml")}
    assert "format.md" in names
    assert data["subject"]["customer_id"] == person_id
    assert set(data["subject"]["addresses"]) == {person_address, "alias-pp@example.net"}

    with database.sessions() as session:
        group = [person_id, alias_id]
        leads = _ids(session, select(Lead.id).where(Lead.customer_id.in_(group)))
        conversations = _ids(
            session, select(Conversation.id).where(Conversation.customer_id.in_(group))
        )
        messages = _ids(
            session, select(EmailMessage.id).where(EmailMessage.conversation_id.in_(conversations))
        )
        expected = {
            "customers": set(group),
            "leads": leads,
            "conversations": conversations,
            "messages": messages,
            "notes": _ids(
                session,
                select(Note.id).where(
                    or_(
                        Note.customer_id.in_(group),
                        Note.lead_id.in_(leads),
                        Note.conversation_id.in_(conversations),
                    )
                ),
            ),
            "quotes": _ids(session, select(Quote.id).where(Quote.customer_id.in_(group))),
            "bookings": _ids(session, select(Booking.id).where(Booking.customer_id.in_(group))),
            "ledger_entries": _ids(
                session,
                select(ReceivedMessage.id).where(ReceivedMessage.email_message_id.in_(messages)),
            ),
            "quarantined_mentions": _ids(
                session,
                select(ReceivedMessage.id).where(ReceivedMessage.gmail_message_id == "q-mine"),
            ),
        }
        raws = {
            rid: bytes(raw)
            for rid, raw in session.execute(
                select(ReceivedMessage.id, ReceivedMessage.raw).where(
                    ReceivedMessage.id.in_(
                        expected["ledger_entries"] | expected["quarantined_mentions"]
                    )
                )
            )
        }
        others = {
            "customer": {other_id},
            "conversations": _ids(
                session, select(Conversation.id).where(Conversation.customer_id == other_id)
            ),
            "leads": _ids(session, select(Lead.id).where(Lead.customer_id == other_id)),
            "notes": _ids(session, select(Note.id).where(Note.customer_id == other_id)),
            "ledger": _ids(
                session,
                select(ReceivedMessage.id)
                .join(EmailMessage, EmailMessage.id == ReceivedMessage.email_message_id)
                .join(Conversation, Conversation.id == EmailMessage.conversation_id)
                .where(Conversation.customer_id == other_id),
            ),
        }
    assert len(messages) >= 2 and len(expected["notes"]) >= 3  # the merge adds one
    for kind, ids in expected.items():
        assert {row["id"] for row in data["rows"][kind]} == ids, kind
    bodies = {row["id"]: row["body"] for row in data["rows"]["messages"]}
    assert all(isinstance(body, str) for body in bodies.values())
    assert {row["total"] for row in data["rows"]["quotes"]} == {"1234.50"}
    assert emls == {f"raw/{rid}.eml": raw for rid, raw in raws.items()}

    assert other_address.encode() not in everything
    for kind, ids in others.items():
        for row_id in ids:
            assert row_id.encode().lower() not in everything, kind

    as_json = cli.json("privacy", "export", person_id, "--out", str(tmp_path / "again.zip"))
    assert as_json["rows"]["messages"] == len(messages) and as_json["raw_messages"] == 0
    with zipfile.ZipFile(tmp_path / "again.zip") as archive:
        assert not [n for n in archive.namelist() if n.endswith(".eml")]


def test_unknown_person_and_bad_paths_are_one_line_errors(cli: Cli, tmp_path: Path) -> None:
    assert "nobody@example.org" in cli.fails(
        "privacy", "export", "nobody@example.org", "--out", str(tmp_path / "x.zip")
    )
    customer = cli.create("Anna", "anna@example.org")
    error = cli.fails("privacy", "export", customer, "--out", str(tmp_path / "no" / "x.zip"))
    assert "does not exist" in error
    assert "is a folder" in cli.fails("privacy", "export", customer, "--out", str(tmp_path))
    assert not list(tmp_path.glob(".*.partial"))

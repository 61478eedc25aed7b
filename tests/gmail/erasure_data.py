"""A person with everything a person can have in the CRM, for the erasure tests; and a
full dump of the test database to look for what is left of them."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from crm_core import services
from crm_core.db import transaction
from crm_core.inbox import StagedMessage, record_outcome, stage_messages
from crm_core.models import Conversation, Customer, Quote, ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome, QuoteStatus
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, deliver_customers, sync
from tests.gmail_fake import FakeGmailServer
from worker.runtime import Runtime

ADDRESS = "birthe.kjaergaard@example.org"
ALIAS = "birthe.k@firma-eksempel.dk"
NAME = "Birthe Kjærgaard"
PHONE = "+45 21 43 65 87"
HOME = "Solsikkevej 17, 8200 Aarhus N"
# Words found only in what the person wrote, was written, or what was noted about her.
PHRASES = [
    "Birthe",
    "Kjærgaard",
    "kjaergaard",
    "firma-eksempel",
    "21 43 65 87",
    "Solsikkevej",
    "tagrenderne",
    "urtepotten",
    "gulvafslibning",
    "kælderrydning",
    "havearbejde",
    "Stigen og blæseren",
    "morgenerne",
    "naboens nøgle",
    "faktura for vinduespudsningen",
    "vinduesplan",
]
OTHER_ADDRESS = "kunde1@example.net"


def mail(
    sender: str, to: str, subject: str, body: str, n: int, reply_to: int | None = None
) -> bytes:
    moment = datetime(2025, 4, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: <erasure{n}@example.org>",
        f"Date: {format_datetime(moment)}",
    ]
    if reply_to is not None:
        lines += [f"In-Reply-To: <erasure{reply_to}@example.org>"]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode("utf-8")


def her_mail(n: int, body: str = "Har I tid til hovedrengøring i maj?") -> bytes:
    return mail(f"{NAME} <{ADDRESS}>", MAILBOX, f"Spørgsmål {n}", body, n)


@dataclass
class Person:
    customer_id: str
    gmail_ids: list[str]
    conversation_id: str
    revenue_before: Decimal
    other_ids: list[str] = field(default_factory=list)


def build_person(runtime: Runtime, server: FakeGmailServer) -> Person:
    """Her mail through Gmail (inbound, our answer, from an alias, one in spam), a
    quarantined message naming her, a lead without a customer from her address, a
    linked lead with an accepted and a draft quote, a booking, notes; and three other
    customers with mail of their own."""
    first = server.deliver(
        MAILBOX,
        mail(
            f"{NAME} <{ADDRESS}>",
            MAILBOX,
            "Tagrender på Solsikkevej",
            f"Hej, tagrenderne skal renses. Ring på {PHONE}. Hilsen Birthe",
            1,
        ),
    )
    answer = server.deliver(
        MAILBOX,
        mail(
            f"Rendetalje <{MAILBOX}>",
            ADDRESS,
            "Re: Tagrender på Solsikkevej",
            "Kære Birthe, vi kommer torsdag. Stigen og blæseren er med.",
            2,
            reply_to=1,
        ),
        labels=["SENT"],
    )
    aliased = server.deliver(
        MAILBOX,
        mail(
            f"Birthe K <{ALIAS}>",
            MAILBOX,
            "Nøgle",
            "Husk nøglen under urtepotten ved bagdøren.",
            3,
        ),
    )
    spam = server.deliver(
        MAILBOX,
        mail(f"{NAME} <{ADDRESS}>", MAILBOX, "Tilbud", "Pris på gulvafslibning?", 4),
        labels=["SPAM"],
    )
    others = deliver_customers(server, range(1, 4))
    sync(runtime)
    with transaction(runtime.sessions) as session:
        person = services.find_or_create_customer(session, ADDRESS)
        alias = services.find_or_create_customer(session, ALIAS)
        services.merge_customers(session, person.id, alias.id)
        services.update_customer(session, person.id, phone=PHONE, address=HOME)
        services.add_note(session, "customer", person.id, "Foretrækker morgenerne")
        lead = services.create_lead(
            session, source="manual", name=NAME, email=ADDRESS, phone=PHONE, address=HOME
        )
        services.link_lead_to_customer(session, lead.id, person.id)
        services.add_note(session, "lead", lead.id, "Har naboens nøgle")
        accepted = services.create_quote(
            session, total="4321.50", lead_id=lead.id, description="Vinduesplan for Birthe"
        )
        services.accept_quote(session, accepted.id)
        services.create_quote(
            session, total="999.00", customer_id=person.id, description="Ekstra vinduesplan"
        )
        services.create_booking(
            session,
            scheduled_at=utcnow() + timedelta(days=5),
            customer_id=person.id,
            quote_id=accepted.id,
            notes="Birthe: brug naboens nøgle",
        )
        services.create_lead(
            session, source="website", name="B. Kjærgaard", email=ADDRESS, message="havearbejde"
        )
        # Another customer's business, which stays.
        other = services.find_or_create_customer(session, OTHER_ADDRESS)
        other_quote = services.create_quote(session, total="1000.00", customer_id=other.id)
        services.accept_quote(session, other_quote.id)
        stage_messages(
            session,
            [
                StagedMessage(
                    MAILBOX,
                    "quarantined-1",
                    f"From: <{ADDRESS.upper()}>\r\n\r\nkælderrydning".encode(),
                    "gmail",
                )
            ],
        )
        session.flush()
        row = session.execute(
            select(ReceivedMessage).where(ReceivedMessage.gmail_message_id == "quarantined-1")
        ).scalar_one()
        record_outcome(row, IngestOutcome.QUARANTINED, "test")
        conversation_id = session.execute(
            select(Conversation.id).where(Conversation.customer_id == person.id).limit(1)
        ).scalar_one()
        revenue = revenue_total(session)
        return Person(person.id, [first, answer, aliased, spam], conversation_id, revenue, others)


def revenue_total(session: object) -> Decimal:
    """Revenue as the reports add it up: the customers' figures, which must equal the
    accepted quotes."""
    figures = session.execute(select(func.sum(Customer.total_revenue))).scalar_one()  # type: ignore[attr-defined]
    quotes = session.execute(  # type: ignore[attr-defined]
        select(func.sum(Quote.total)).where(Quote.status == QuoteStatus.ACCEPTED)
    ).scalar_one()
    assert Decimal(figures) == Decimal(quotes)
    return Decimal(figures)


_BYTEA = re.compile(rb"\\\\?x((?:[0-9a-f]{2})+)")


def dump(database: Database) -> bytes:
    """Everything the database holds, lower-cased: ``pg_dump`` of the test schema
    (bytea values decoded), or the SQLite file and its write-ahead log."""
    if database.kind == "postgresql":
        url = make_url(database.url)
        output = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                f"--schema={database.schema}",
                "-h",
                str(url.host),
                "-p",
                str(url.port or 5432),
                "-U",
                str(url.username),
                str(url.database),
            ],
            check=True,
            capture_output=True,
        ).stdout
        raw = b"".join(bytes.fromhex(m.decode()) for m in _BYTEA.findall(output))
        return (output + b"\n" + raw).lower()
    path = Path(str(make_url(database.url).database))
    wal = path.with_name(path.name + "-wal")
    return (path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")).lower()


def found_in(text: bytes, needles: list[str]) -> list[str]:
    return [n for n in needles if n.lower().encode() in text]

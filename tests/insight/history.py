"""Crafted lead histories for the scoring and trends tests, written through the services."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from crm_core import services
from crm_core.models import Lead
from crm_core.statuses import Direction

GOOD = ("rengoring.nu", "Søndergade 12, 8000 Aarhus C")
BAD = ("leadpoint", "Vesterbrogade 3, 2100 København Ø")
# A Tuesday at 10:00 Copenhagen time: every crafted lead comes in on it, so weekday
# and hour carry no signal at all.
TUESDAY = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def lead(
    session: Session,
    source: str,
    address: str,
    received_at: datetime,
    *,
    converted: bool = False,
    revenue: str = "4000",
    reply_after: timedelta | None = None,
) -> Lead:
    """A lead; a converted one gets an accepted quote and a booking, a week later;
    with ``reply_after`` our first reply goes out that long after it came."""
    created = services.create_lead(
        session, source=source, address=address, name="Kunde", created_at=received_at
    )
    if reply_after is not None:
        reply(session, created, received_at + reply_after)
    if converted:
        later = received_at + timedelta(days=7)
        quote = services.create_quote(session, total=revenue, lead_id=created.id)
        services.send_quote(session, quote.id, at=received_at + timedelta(days=1))
        services.accept_quote(session, quote.id, at=later)
        services.create_booking(
            session, quote_id=quote.id, scheduled_at=later + timedelta(days=7), booked_at=later
        )
    return created


def planted_history(session: Session, count: int = 120, seed: int = 7) -> None:
    """Decided leads (older than 30 days) in which source and postcode area matter:
    GOOD source converts far more often than BAD, and so does Aarhus (80xx) against
    Copenhagen (21xx). All arrive on Tuesdays at the same hour."""
    rng = random.Random(seed)
    for index in range(count):
        good_source = rng.random() < 0.5
        good_area = rng.random() < 0.5
        chance = 0.1 + 0.35 * good_source + 0.3 * good_area
        source = GOOD[0] if good_source else BAD[0]
        address = GOOD[1] if good_area else BAD[1]
        received = TUESDAY + timedelta(weeks=index % 30)
        lead(session, source, address, received, converted=rng.random() < chance)


def reply(session: Session, lead: Lead, at: datetime) -> None:
    """Our answer to the lead, in a conversation of its own."""
    conversation = services.create_conversation(session, lead_id=lead.id, subject="Tilbud")
    services.create_email_message(
        session,
        conversation_id=conversation.id,
        from_address="info@rendetalje.dk",
        to_address="kunde@example.com",
        body="Tak for din henvendelse",
        direction=Direction.OUTBOUND,
        sent_at=at,
    )

"""Insight stored with the message and read by the reports, on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.insight.backfill import backfill_chunk
from crm_core.insight.reports import follow_up_page, sentiment_trend, template_report_page
from crm_core.insight.templates import name_template
from crm_core.messages import NewMessage, store_new_messages
from crm_core.models import EmailMessage, MessageTemplate
from crm_core.statuses import Direction

T0 = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
MAILBOX = "info@rendetalje.dk"


def offer(name: str, size: int, amount: str, day: str) -> str:
    return (
        f"Hej {name},\n\nTak for din forespørgsel på flytterengøring via Rengøring.nu. "
        f"Vi kan tilbyde en flytterengøring af {size} m² til en fast pris på {amount} kr. "
        f"inkl. moms. Vi har tid {day} kl. 08:00. Prisen dækker køkken, bad, vinduer "
        "indvendigt og alle gulve, og vi garanterer at boligen bliver godkendt ved "
        "afleveringen.\n\nMed venlig hilsen\nRendetalje\n"
    )


OTHER = (
    "Hej Peter,\n\nHermed bekræftelse af jeres faste ugentlige kontorrengøring hver "
    "mandag morgen. Nøglen hentes i receptionen, og alarmkoden sendes på sms.\n\nMvh\n"
)


def _conversation(session: Session, email: str, name: str, lead: bool = True) -> tuple[str, str]:
    customer = services.find_or_create_customer(session, email, name)
    lead_id = None
    if lead:
        lead_id = services.create_lead(session, source="rengoring.nu", email=email).id
        services.link_lead_to_customer(session, lead_id, customer.id)
    conversation = services.create_conversation(
        session, customer_id=customer.id, lead_id=lead_id, subject="Flytterengøring"
    )
    return customer.id, conversation.id


def _send(
    session: Session, conversation_id: str, body: str, at: datetime, template: str | None = None
) -> EmailMessage:
    return services.create_email_message(
        session,
        conversation_id=conversation_id,
        from_address=MAILBOX,
        to_address="customer@example.dk",
        body=body,
        direction="outbound",
        sent_at=at,
        template=template,
    )


def _receive(session: Session, conversation_id: str, body: str, at: datetime) -> EmailMessage:
    return services.create_email_message(
        session,
        conversation_id=conversation_id,
        from_address="customer@example.dk",
        to_address=MAILBOX,
        body=body,
        direction="inbound",
        sent_at=at,
    )


def test_inbound_mail_is_scored_when_stored(session: Session) -> None:
    _, conversation = _conversation(session, "mette@example.dk", "Mette")
    angry = _receive(session, conversation, "Vi er ikke tilfredse. Der var beskidt.", T0)
    happy = _receive(session, conversation, "Tusind tak, det var perfekt!", T0)
    sent = _send(session, conversation, offer("Mette", 80, "3.200", "fredag"), T0)
    session.commit()
    assert angry.sentiment_label == "negative" and angry.sentiment_score is not None
    assert angry.sentiment_score < -0.25
    assert happy.sentiment_label == "positive" and happy.sentiment_score > 0.25  # type: ignore[operator]
    assert sent.sentiment_score is None and sent.template_id is not None


def test_near_duplicates_share_a_template_across_names_amounts_and_dates(session: Session) -> None:
    _, first = _conversation(session, "anna@example.dk", "Anna")
    _, second = _conversation(session, "ole@example.dk", "Ole")
    _, third = _conversation(session, "peter@example.dk", "Peter", lead=False)
    a = _send(session, first, offer("Anna", 85, "3.450,50", "fredag den 31.10.2025"), T0)
    b = _send(session, second, offer("Ole Sørensen", 120, "4.900", "tirsdag 4. nov"), T0)
    c = _send(session, third, OTHER, T0)
    session.commit()
    assert a.template_id == b.template_id
    assert c.template_id not in (None, a.template_id)
    # The batch path (ingestion of many messages at once) groups the same way, also
    # within one batch.
    rows = [
        NewMessage(
            conversation_id=first,
            customer_id=_customer_of(session, first),
            gmail_message_id=f"g{i}",
            gmail_thread_id=None,
            direction=Direction.OUTBOUND,
            sent_at=T0 + timedelta(hours=i),
            columns={
                "from_address": MAILBOX,
                "to_address": "x@example.dk",
                "body": body,
                "body_preview": body[:100],
                "attachments": [],
            },
        )
        for i, body in enumerate(
            [offer("Karina Holm", 64, "2.800", "den 12/11"), OTHER.replace("Peter", "Lone")]
        )
    ]
    ids = store_new_messages(session, MAILBOX, rows)
    session.commit()
    stored = {m.id: m.template_id for m in session.scalars(select(EmailMessage))}
    assert [stored[i] for i in ids] == [a.template_id, c.template_id]


def _customer_of(session: Session, conversation_id: str) -> str:
    return str(services.get_conversation(session, conversation_id).customer_id)


def test_a_named_template_is_used_by_name_and_found_by_similarity(session: Session) -> None:
    _, conversation = _conversation(session, "anna@example.dk", "Anna")
    named = _send(session, conversation, "Kort tekst", T0, template="Tilbud flytterengøring")
    other = _send(
        session,
        conversation,
        offer("Anna", 85, "3.450", "fredag"),
        T0,
        template="Tilbud flytterengøring",
    )
    session.commit()
    assert named.template_id == other.template_id
    template = session.get(MessageTemplate, named.template_id)
    assert template is not None and template.name == "Tilbud flytterengøring"
    # Its first text is its signature: the same text sent without a name joins it.
    again = _send(session, conversation, "Kort tekst", T0)
    assert again.template_id == named.template_id
    # A reply written in the CRM with --template takes the template of that name.
    outbound = services.reply(
        session,
        conversation,
        "Noget helt andet",
        author="Ole",
        template="Tilbud flytterengøring",
        sender=MAILBOX,
    )
    reply_message = session.get(EmailMessage, outbound.id)
    assert reply_message is not None and reply_message.template_id == named.template_id


def test_template_report_reply_rate_and_conversion(session: Session) -> None:
    conversations = [_conversation(session, f"c{i}@example.dk", f"Kunde {i}") for i in range(4)]
    for i, (_, conversation) in enumerate(conversations):
        _send(session, conversation, offer(f"Kunde {i}", 60 + i, f"{2000 + i}", "mandag"), T0)
    _send(session, conversations[0][1], OTHER, T0)  # used once: not a template in the report
    _receive(session, conversations[0][1], "Det lyder godt", T0 + timedelta(days=2))
    _receive(session, conversations[1][1], "Ja tak", T0 + timedelta(days=10))  # too late
    _receive(session, conversations[2][1], "Før tilbuddet", T0 - timedelta(days=1))  # before
    lead_of = [services.get_conversation(session, c).lead_id for _, c in conversations]
    quote = services.create_quote(session, lead_id=lead_of[0], total=2000)
    services.accept_quote(session, quote.id)
    services.create_booking(session, lead_id=lead_of[2], scheduled_at=T0 + timedelta(days=20))
    rejected = services.create_quote(session, lead_id=lead_of[3], total=10)
    services.reject_quote(session, rejected.id)
    session.commit()

    page = template_report_page(session)
    assert page.total.count == 1
    (used,) = page.items
    assert (used.uses, used.replied, used.conversations, used.converted) == (4, 1, 4, 2)
    assert used.reply_rate == 0.25 and used.conversion_rate == 0.5
    assert template_report_page(session, since=T0 + timedelta(days=1)).items == []

    name_template(session, used.template_id, "Tilbud flytterengøring")
    session.commit()
    assert template_report_page(session).items[0].name == "Tilbud flytterengøring"


def test_follow_up_lists_customers_whose_latest_mail_is_negative(session: Session) -> None:
    mette, with_mette = _conversation(session, "mette@example.dk", "Mette")
    ole, with_ole = _conversation(session, "ole@example.dk", "Ole")
    _receive(session, with_mette, "Tusind tak, det var perfekt", T0)
    _receive(session, with_mette, "Vi er ikke tilfredse, der var beskidt", T0 + timedelta(days=3))
    _receive(session, with_ole, "Det var elendigt", T0)
    _receive(session, with_ole, "Nu er det fint, tak", T0 + timedelta(days=3))
    session.commit()
    page = follow_up_page(session)
    assert [f.customer_id for f in page.items] == [mette]
    (item,) = page.items
    assert item.score < -0.25 and item.previous_score is not None and item.previous_score > 0.25
    trend = sentiment_trend(session, ole)
    assert [score < 0 for _, score in trend] == [True, False]


def test_backfill_scores_messages_stored_before_in_chunks(session: Session) -> None:
    _, conversation = _conversation(session, "mette@example.dk", "Mette")
    _receive(session, conversation, "Vi er ikke tilfredse", T0)
    _receive(session, conversation, "Det var perfekt", T0)
    _send(session, conversation, offer("Mette", 80, "3.200", "fredag"), T0)
    _send(session, conversation, offer("Mette Hansen", 90, "3.900", "lørdag"), T0)
    session.execute(
        update(EmailMessage).values(sentiment_score=None, sentiment_label=None, template_id=None)
    )
    session.commit()
    after = None
    while True:
        chunk = backfill_chunk(session, after=after, size=1)
        session.commit()
        if chunk.last_id is None:
            break
        after = chunk.last_id
    messages = list(session.scalars(select(EmailMessage)))
    inbound = sorted(str(m.sentiment_label) for m in messages if m.direction == "inbound")
    assert inbound == ["negative", "positive"]
    templates = {m.template_id for m in messages if m.direction == "outbound"}
    assert len(templates) == 1 and None not in templates
    # Running it again finds nothing to do.
    assert backfill_chunk(session, size=100) == backfill_chunk(session, size=100)
    assert backfill_chunk(session, size=100).scored == 0

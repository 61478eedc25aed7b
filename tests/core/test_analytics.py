"""The specification's analytics, computed in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from crm_core import services

T0 = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


def _sale(session: Session, email: str, name: str, total: int) -> str:
    customer = services.find_or_create_customer(session, email, name)
    quote = services.create_quote(session, customer_id=customer.id, total=total)
    services.accept_quote(session, quote.id)
    return customer.id


def test_top_customers_by_revenue(session: Session) -> None:
    _sale(session, "small@example.dk", "Small", 500)
    big = _sale(session, "big@example.dk", "Big", 9000)
    mid = _sale(session, "mid@example.dk", "Mid", 2500)
    gone = _sale(session, "gone@example.dk", "Gone", 99999)
    services.delete_customer(session, gone)
    session.commit()

    top = services.top_customers_by_revenue(session, limit=2)
    assert [(c.id, c.total_revenue) for c in top] == [(big, Decimal(9000)), (mid, Decimal(2500))]
    everyone = services.top_customers_by_revenue(session, limit=10, status=None)
    assert everyone[0].id == gone


def test_response_ratio_per_conversation(session: Session) -> None:
    customer = services.find_or_create_customer(session, "c@example.dk", "C")
    busy = services.create_conversation(session, customer_id=customer.id, subject="Busy")
    quiet = services.create_conversation(session, customer_id=customer.id, subject="Quiet")
    directions = ["inbound", "outbound", "inbound", "outbound", "outbound"]
    for n, direction in enumerate(directions):
        services.create_email_message(
            session,
            conversation_id=busy.id,
            from_address="x",
            to_address="y",
            body="…",
            direction=direction,
            sent_at=T0 + timedelta(minutes=n),
        )
    services.create_email_message(
        session,
        conversation_id=quiet.id,
        from_address="info@rendetalje.dk",
        to_address="c@example.dk",
        body="…",
        direction="outbound",
        sent_at=T0,
    )
    services.create_conversation(session, customer_id=customer.id, subject="Empty")
    session.commit()

    ratios = {r.subject: r for r in services.response_ratios(session, customer_id=customer.id)}
    assert set(ratios) == {"Busy", "Quiet"}
    assert (ratios["Busy"].outbound, ratios["Busy"].inbound, ratios["Busy"].ratio) == (3, 2, 1.5)
    assert (ratios["Quiet"].outbound, ratios["Quiet"].inbound, ratios["Quiet"].ratio) == (
        1,
        0,
        None,
    )
    assert ratios["Busy"].customer_name == "C"


def test_ai_generated_emails_by_model(session: Session) -> None:
    conversation = services.create_conversation(session)
    models = ["gemini-1.5-pro", "gemini-1.5-pro", None, "gpt-4o"]
    for model in models:
        services.create_email_message(
            session,
            conversation_id=conversation.id,
            from_address="info@rendetalje.dk",
            to_address="c@example.dk",
            body="…",
            direction="outbound",
            is_ai_generated=True,
            ai_model=model,
        )
    services.create_email_message(
        session,
        conversation_id=conversation.id,
        from_address="info@rendetalje.dk",
        to_address="c@example.dk",
        body="written by hand",
        direction="outbound",
        ai_model="gpt-4o",
    )
    session.commit()
    counts = [(m.model, m.count) for m in services.ai_emails_by_model(session)]
    assert counts == [("gemini-1.5-pro", 2), ("gpt-4o", 1), ("unknown", 1)]

"""Mail stored through the services for the search tests: one customer, one
conversation, a message per body."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from crm_core import services


def store_mail(
    session: Session,
    bodies: Mapping[str, str],
    *,
    name: str = "Mette Hansen",
    email: str = "mette@example.dk",
    subjects: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """The customer's id, and the messages' ids by the key of their body."""
    customer = services.create_customer(session, name=name, email=email)
    conversation = services.create_conversation(session, customer_id=customer.id)
    ids = {}
    for key, body in bodies.items():
        message = services.create_email_message(
            session,
            conversation_id=conversation.id,
            from_address=email,
            to_address="info@rendetalje.dk",
            body=body,
            direction="inbound",
            subject=(subjects or {}).get(key, "Spørgsmål"),
        )
        ids[key] = message.id
    return customer.id, ids

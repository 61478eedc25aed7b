from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, Timestamps, id_column
from crm_core.models.types import UTCDateTime, status_enum
from crm_core.statuses import Channel, ConversationStatus

if TYPE_CHECKING:
    from crm_core.models.customer import Customer
    from crm_core.models.email_message import EmailMessage
    from crm_core.models.lead import Lead


class Conversation(Timestamps, Base):
    __tablename__ = "conversations"

    id: Mapped[str] = id_column()
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    lead_id: Mapped[str | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[Channel] = mapped_column(
        status_enum(Channel, "conversation_channel"), default=Channel.EMAIL
    )
    status: Mapped[ConversationStatus] = mapped_column(
        status_enum(ConversationStatus, "conversation_status"), default=ConversationStatus.ACTIVE
    )
    # Gmail thread ids are unique per mailbox; '' is the mailbox of callers that name none.
    mailbox: Mapped[str] = mapped_column(String(320), default="", server_default="")
    gmail_thread_id: Mapped[str | None] = mapped_column(String(100))
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer | None] = relationship(
        back_populates="conversations", lazy="raise_on_sql"
    )
    lead: Mapped[Lead | None] = relationship(back_populates="conversations", lazy="raise_on_sql")
    messages: Mapped[list[EmailMessage]] = relationship(
        back_populates="conversation", lazy="raise_on_sql"
    )

    __table_args__ = (
        UniqueConstraint("mailbox", "gmail_thread_id"),
        CheckConstraint("lower(mailbox) = mailbox", name="mailbox_lowercase"),
    )


# The response-ratio report walks the most recently active conversations; lookups by
# Gmail thread id may name no mailbox, which the unique key cannot serve.
Index(
    "ix_conversations_last_contact_at", Conversation.last_contact_at.desc(), Conversation.id.desc()
)
Index("ix_conversations_gmail_thread_id", Conversation.gmail_thread_id)

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, Timestamps, id_column
from crm_core.models.types import UTCDateTime, json_list, status_enum, utcnow
from crm_core.statuses import Direction, MessageStatus

if TYPE_CHECKING:
    from crm_core.models.conversation import Conversation


class EmailMessage(Timestamps, Base):
    __tablename__ = "email_messages"

    id: Mapped[str] = id_column()
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    mailbox: Mapped[str] = mapped_column(String(320), default="", server_default="")
    gmail_message_id: Mapped[str | None] = mapped_column(String(100))
    gmail_thread_id: Mapped[str | None] = mapped_column(String(100), index=True)
    # The RFC 5322 Message-ID, for threading by In-Reply-To/References and for bounces.
    rfc822_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))

    from_address: Mapped[str] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(Text)
    cc_address: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    body_preview: Mapped[str | None] = mapped_column(String(500))
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=json_list)

    direction: Mapped[Direction] = mapped_column(status_enum(Direction, "message_direction"))
    status: Mapped[MessageStatus] = mapped_column(
        status_enum(MessageStatus, "message_status"), default=MessageStatus.SENT
    )
    is_ai_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    ai_model: Mapped[str | None] = mapped_column(String(100))
    # Indexed for the search, which ranks the newest matches of a common word.
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Insight (crm_core/insight): the template of an outbound message, the sentiment
    # of an inbound one; both set when the message is stored, NULL until then for
    # messages stored before (``crm insight backfill``).
    # The template is a plain column, no foreign key: SQLite adds a column but not a
    # constraint, and rebuilding email_messages would drop its search triggers.
    # Templates are never deleted, so the reference cannot dangle.
    template_id: Mapped[str | None] = mapped_column(String(25), index=True)
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    # A Sentiment value (negative, neutral, positive).
    sentiment_label: Mapped[str | None] = mapped_column(String(10))

    conversation: Mapped[Conversation] = relationship(
        back_populates="messages", lazy="raise_on_sql"
    )

    __table_args__ = (UniqueConstraint("mailbox", "gmail_message_id"),)


# Lookups by Gmail message id may name no mailbox; the AI report reads only AI mail.
Index("ix_email_messages_gmail_message_id", EmailMessage.gmail_message_id)
Index(
    "ix_email_messages_ai_model",
    EmailMessage.ai_model,
    postgresql_where=text("is_ai_generated"),
    sqlite_where=text("is_ai_generated = 1"),
)

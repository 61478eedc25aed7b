from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, Timestamps
from crm_core.models.types import UTCDateTime, status_enum
from crm_core.statuses import ReplyState, SendMode


class OutboundReply(Timestamps, Base):
    """The way out of one reply written in the CRM: its EmailMessage (same id) and
    where it stands. The message row holds what was written; this row holds how it is
    being sent, so that a send is started once and its outcome is looked up, never
    guessed (crm_core/replies/states.py)."""

    __tablename__ = "outbound_replies"

    id: Mapped[str] = mapped_column(
        String(25), ForeignKey("email_messages.id", ondelete="CASCADE"), primary_key=True
    )
    mailbox: Mapped[str] = mapped_column(String(320))
    mode: Mapped[SendMode] = mapped_column(status_enum(SendMode, "send_mode"))
    state: Mapped[ReplyState] = mapped_column(status_enum(ReplyState, "reply_state"))
    reason: Mapped[str | None] = mapped_column(String(500))
    author: Mapped[str] = mapped_column(String(200))
    template: Mapped[str | None] = mapped_column(String(200))
    # The optional HTML part; the EmailMessage body is the plain text.
    html: Mapped[str | None] = mapped_column(Text)
    reference_ids: Mapped[str | None] = mapped_column(Text)
    gmail_draft_id: Mapped[str | None] = mapped_column(String(100))
    # The Gmail id of the draft's message: a draft sent from Gmail may keep it.
    draft_message_id: Mapped[str | None] = mapped_column(String(100))
    # Set when a send starts, before the request leaves: the mailbox's history id then
    # is where the lookup after an unknown outcome reads from.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    history_id_before: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_outbound_replies_mailbox_state", "mailbox", "state"),)

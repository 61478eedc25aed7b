from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, id_column
from crm_core.models.types import UTCDateTime, utcnow


class Note(Base):
    """A dated remark on a customer, a lead or a conversation. Notes are only ever
    added: there is no update, so the list is the history."""

    __tablename__ = "notes"

    id: Mapped[str] = id_column()
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[str | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (
        CheckConstraint(
            "customer_id IS NOT NULL OR lead_id IS NOT NULL OR conversation_id IS NOT NULL",
            name="has_subject",
        ),
    )

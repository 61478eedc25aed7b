from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base


class AiMessageCount(Base):
    """How many AI-written messages each model has: the AI-emails report reads these
    few rows instead of counting the messages (crm_core.analytics.ai_counts keeps
    them, in the transaction that stores or deletes a message)."""

    __tablename__ = "ai_message_counts"

    # The model as the report names it: "unknown" when the message did not say.
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)

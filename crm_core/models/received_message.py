from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, id_column
from crm_core.models.types import UTCDateTime, json_list, status_enum, utcnow
from crm_core.statuses import IngestOutcome


class ReceivedMessage(Base):
    """Every message seen in a mailbox, raw, with what became of it.

    This is the ledger an audit reads: a message is stored, skipped with a reason,
    a bounce, quarantined, or still pending. The raw bytes stay until retention
    (crm_core.inbox.retention) drops them, leaving b"": until then a quarantined
    message can be retried and any message re-ingested without the mail server.
    """

    __tablename__ = "received_messages"

    id: Mapped[str] = id_column()
    mailbox: Mapped[str] = mapped_column(String(320))
    gmail_message_id: Mapped[str] = mapped_column(String(100))
    gmail_thread_id: Mapped[str | None] = mapped_column(String(100))
    label_ids: Mapped[list[str]] = mapped_column(JSON, default=json_list)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))  # gmail, mbox, api
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    outcome: Mapped[IngestOutcome] = mapped_column(
        status_enum(IngestOutcome, "ingest_outcome"), default=IngestOutcome.PENDING, index=True
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_message_id: Mapped[str | None] = mapped_column(
        ForeignKey("email_messages.id", ondelete="SET NULL"), index=True
    )
    staged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("mailbox", "gmail_message_id"),)

    def __repr__(self) -> str:  # never the raw bytes
        return f"<ReceivedMessage {self.mailbox}:{self.gmail_message_id} {self.outcome}>"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mailbox": self.mailbox,
            "gmail_message_id": self.gmail_message_id,
            "gmail_thread_id": self.gmail_thread_id,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "attempts": self.attempts,
            "size": self.size,
        }

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, Timestamps, id_column
from crm_core.models.types import UTCDateTime, status_enum
from crm_core.statuses import QuoteStatus


class Quote(Timestamps, Base):
    """An offer in Danish kroner. It belongs to a lead, a customer, or both.

    Its owner for the stats is the lead's customer when the lead is linked, else
    the customer it names directly (see crm_core.stats).
    """

    __tablename__ = "quotes"

    id: Mapped[str] = id_column()
    lead_id: Mapped[str | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[QuoteStatus] = mapped_column(
        status_enum(QuoteStatus, "quote_status"), default=QuoteStatus.DRAFT
    )
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("lead_id IS NOT NULL OR customer_id IS NOT NULL", name="has_owner"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )


# Lists of quotes: newest first, within a status or not (see crm_core.paging).
Index("ix_quotes_status_created_at", Quote.status, Quote.created_at.desc(), Quote.id.desc())
Index("ix_quotes_created_at", Quote.created_at.desc(), Quote.id.desc())

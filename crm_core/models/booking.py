from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, Timestamps, id_column
from crm_core.models.types import UTCDateTime, status_enum
from crm_core.statuses import BookingStatus


class Booking(Timestamps, Base):
    """A scheduled job. Owned, for the stats, like a quote: the lead's customer first."""

    __tablename__ = "bookings"

    id: Mapped[str] = id_column()
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    lead_id: Mapped[str | None] = mapped_column(
        ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    quote_id: Mapped[str | None] = mapped_column(
        ForeignKey("quotes.id", ondelete="SET NULL"), index=True
    )
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(
        status_enum(BookingStatus, "booking_status"), default=BookingStatus.SCHEDULED
    )
    notes: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("lead_id IS NOT NULL OR customer_id IS NOT NULL", name="has_owner"),
    )


# Lists of bookings by date (latest first, or read backwards: soonest first).
Index(
    "ix_bookings_status_scheduled_at",
    Booking.status,
    Booking.scheduled_at.desc(),
    Booking.id.desc(),
)
Index("ix_bookings_scheduled_at", Booking.scheduled_at.desc(), Booking.id.desc())

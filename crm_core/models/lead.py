from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, Timestamps, id_column
from crm_core.models.types import status_enum
from crm_core.statuses import LeadStatus

if TYPE_CHECKING:
    from crm_core.models.conversation import Conversation
    from crm_core.models.customer import Customer


class Lead(Timestamps, Base):
    """A request for work, usually from a lead platform or the website form."""

    __tablename__ = "leads"

    id: Mapped[str] = id_column()
    source: Mapped[str] = mapped_column(String(100), default="manual")
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(Text)
    property_type: Mapped[str | None] = mapped_column(String(100))
    task_type: Mapped[str | None] = mapped_column(String(200))
    size_m2: Mapped[int | None] = mapped_column(Integer)
    rooms: Mapped[int | None] = mapped_column(Integer)
    preferred_dates: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[LeadStatus] = mapped_column(
        status_enum(LeadStatus, "lead_status"), default=LeadStatus.NEW
    )
    # Makes lead creation idempotent: e.g. "<mailbox>:<gmail message id>".
    idempotency_key: Mapped[str | None] = mapped_column(String(400), unique=True)

    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    email_thread_id: Mapped[str | None] = mapped_column(String(100))

    customer: Mapped[Customer | None] = relationship(back_populates="leads", lazy="raise_on_sql")
    conversations: Mapped[list[Conversation]] = relationship(
        back_populates="lead", lazy="raise_on_sql"
    )


# Lists of leads: newest first, within a status or not (see crm_core.paging).
Index("ix_leads_status_created_at", Lead.status, Lead.created_at.desc(), Lead.id.desc())
Index("ix_leads_created_at", Lead.created_at.desc(), Lead.id.desc())

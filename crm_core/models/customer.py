from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.models.base import Base, Timestamps, id_column
from crm_core.models.types import TagArray, UTCDateTime, json_list, status_enum
from crm_core.statuses import CustomerStatus

if TYPE_CHECKING:
    from crm_core.models.conversation import Conversation
    from crm_core.models.lead import Lead


class Customer(Timestamps, Base):
    __tablename__ = "customers"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    # The address as the customer wrote it, and the lower-case form that is unique.
    email: Mapped[str | None] = mapped_column(String(320))
    email_normalized: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(Text)
    company_name: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CustomerStatus] = mapped_column(
        status_enum(CustomerStatus, "customer_status"), default=CustomerStatus.ACTIVE
    )
    tags: Mapped[list[str]] = mapped_column(TagArray, default=json_list)

    total_leads: Mapped[int] = mapped_column(Integer, default=0)
    total_bookings: Mapped[int] = mapped_column(Integer, default=0)
    total_revenue: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A customer merged into another stays as this row: its address is then an alias
    # of the kept customer (the unique index keeps every address, alias or not, on
    # one customer), and find-or-create follows merged_into_id. See crm_core.merge.
    # No foreign key: SQLite cannot add one to an existing table without rebuilding it.
    merged_into_id: Mapped[str | None] = mapped_column(String(25))
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    leads: Mapped[list[Lead]] = relationship(back_populates="customer", lazy="raise_on_sql")
    conversations: Mapped[list[Conversation]] = relationship(
        back_populates="customer", lazy="raise_on_sql"
    )

    # Figures, last contact, status and tags change often. Tags are in no index of
    # this table (customers are found by tag through customer_tags), and with half of
    # each page free (PostgreSQL) an update that changes no indexed column stays on
    # the page and writes no index entry (HOT), even when every row of the page
    # changes at once: recomputing the figures of 264,000 of a million customers went
    # from 2.7 million WAL records to 0.5 million with 30 % free (migration 0013), and
    # a tag added to 100,000 new customers from 2.5 s to 1.0 s with 50 % (0017;
    # bench/RESULTS.md).
    __table_args__ = ({"postgresql_with": {"fillfactor": 50}},)


# Lists are newest first within a status, reports richest first: each order is an
# index, so a page reads its own rows and not the table (see crm_core.paging).
Index(
    "ix_customers_status_created_at",
    Customer.status,
    Customer.created_at.desc(),
    Customer.id.desc(),
)
Index("ix_customers_created_at", Customer.created_at.desc(), Customer.id.desc())
# Merged customers are few: an index of them alone is not written when the rest of the
# customers change (a bulk tag change of 100,000 wrote 100,000 NULL entries).
Index(
    "ix_customers_merged_into_id",
    Customer.merged_into_id,
    postgresql_where=Customer.merged_into_id.is_not(None),
    sqlite_where=Customer.merged_into_id.is_not(None),
)
Index(
    "ix_customers_status_total_revenue",
    Customer.status,
    Customer.total_revenue.desc(),
    Customer.name,
)

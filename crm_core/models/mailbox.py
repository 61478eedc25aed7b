from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base, Timestamps, id_column
from crm_core.models.types import UTCDateTime, status_enum
from crm_core.statuses import MailboxStatus


class Mailbox(Timestamps, Base):
    """A connected Gmail mailbox and where its sync stands.

    ``history_id`` is the Gmail history id up to which every message has been durably
    handed to ingestion; it only ever moves forward. The lease makes one sync per
    mailbox run at a time, across processes and machines, on both databases.
    """

    __tablename__ = "mailboxes"

    id: Mapped[str] = id_column()
    address: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[MailboxStatus] = mapped_column(
        status_enum(MailboxStatus, "mailbox_status"), default=MailboxStatus.ACTIVE
    )
    history_id: Mapped[int | None] = mapped_column(BigInteger)
    last_full_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the newest history id was applied: the sync lag is measured from here.
    history_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    watch_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

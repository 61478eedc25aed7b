from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.models.base import Base


class CustomerTag(Base):
    """One tag of one customer: the index by which customers are found by tag.

    ``customers.tags`` stays what a customer carries (its order is the one shown);
    this table holds the same pairs so that a tag filter is a B-tree lookup and a tag
    change leaves the customer's other indexes alone. Triggers on customers keep it
    in step (migration 0016): after an INSERT, after an UPDATE that changes tags,
    after a DELETE. A bulk tag change on PostgreSQL writes it set-based instead
    (crm_core.customers.bulk_changes).
    """

    __tablename__ = "customer_tags"

    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(25), primary_key=True)

"""Which customers a list, an export or a bulk change is about: one filter, one WHERE.

The filters of ``crm customer list`` (status, tags with all/any) plus ranges of the
creation time and the last contact. Every bound is a moment: ``since`` is inclusive,
``before`` exclusive, so consecutive ranges never overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists
from sqlalchemy.orm import Session

from crm_core.errors import ValidationError
from crm_core.models import Customer, CustomerTag
from crm_core.normalize import normalize_tags
from crm_core.statuses import CustomerStatus, parse_status

TagMatch = Literal["all", "any"]


@dataclass(frozen=True)
class CustomerFilter:
    status: str | CustomerStatus | None = None
    tags: Sequence[str] = field(default_factory=tuple)
    match: TagMatch = "all"
    created_since: datetime | None = None
    created_before: datetime | None = None
    contacted_since: datetime | None = None
    contacted_before: datetime | None = None


def tag_condition(session: Session, wanted: list[str], match: TagMatch) -> ColumnElement[bool]:
    """Customers carrying all (or any) of the normalised ``wanted`` tags."""
    if match not in ("all", "any"):
        raise ValidationError(f"unknown tag match {match!r}; expected 'all' or 'any'")

    def carrying(*tags: str) -> ColumnElement[bool]:
        # customer_tags' primary key leads with the tag; IN of one value is "=".
        return exists().where(CustomerTag.tag.in_(tags), CustomerTag.customer_id == Customer.id)

    found = carrying(*wanted) if match == "any" else and_(*(carrying(tag) for tag in wanted))
    if session.get_bind().dialect.name != "postgresql":
        return found
    # The same test on the row's own array as well: free where the row is read anyway,
    # and it leaves the planner both ways in. For a common tag it walks the list's
    # index, checks the array and probes customer_tags only for the rows that pass (a
    # capped count of "vip" at a million customers: 39 ms with the probe alone, 11
    # with both); for a rare tag it starts from customer_tags.
    held = Customer.tags.contains(wanted) if match == "all" else Customer.tags.overlap(wanted)
    return and_(held, found)


def has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    """Customers that carry this one (normalised) tag, for a change that reads every
    row its filter selects anyway. On PostgreSQL a test of the row's own array: with
    the customer_tags probe as well the UPDATE of a bulk change joined customer_tags
    (removing a tag from 100,000 customers took 2.1 s instead of 1.1)."""
    # NOT of both tests (a bulk add) would be planned as a probe per row on
    # PostgreSQL, not as an anti-join.
    if session.get_bind().dialect.name == "postgresql":
        return Customer.tags.contains([tag])
    return tag_condition(session, [tag], "all")


def filter_condition(session: Session, wanted: CustomerFilter) -> ColumnElement[bool]:
    """The WHERE clause of ``wanted``. Customers merged into another are never selected:
    their address is the kept customer's alias."""
    conditions: list[Any] = [Customer.merged_into_id.is_(None)]
    if wanted.status is not None:
        conditions.append(Customer.status == parse_status(CustomerStatus, wanted.status))
    tags = normalize_tags(wanted.tags)
    if tags:
        conditions.append(tag_condition(session, tags, wanted.match))
    _check_range("created", wanted.created_since, wanted.created_before)
    _check_range("last contact", wanted.contacted_since, wanted.contacted_before)
    if wanted.created_since is not None:
        conditions.append(Customer.created_at >= wanted.created_since)
    if wanted.created_before is not None:
        conditions.append(Customer.created_at < wanted.created_before)
    if wanted.contacted_since is not None:
        conditions.append(Customer.last_contact_at >= wanted.contacted_since)
    if wanted.contacted_before is not None:
        conditions.append(Customer.last_contact_at < wanted.contacted_before)
    return and_(*conditions)


def _check_range(what: str, since: datetime | None, before: datetime | None) -> None:
    if since is not None and before is not None and since >= before:
        raise ValidationError(f"empty {what} range: the start must lie before the end")

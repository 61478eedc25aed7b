"""Set-based UPDATEs of single rows, and keeping loaded objects honest after them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, bindparam, inspect, or_, update
from sqlalchemy.orm import Session

from crm_core.models.types import UTCDateTime

if TYPE_CHECKING:
    from crm_core.models import Conversation, Customer


def expire_if_loaded(session: Session, model: type[object], key: str, attrs: list[str]) -> None:
    """Expire ``attrs`` of the object with primary key ``key`` if the session holds it."""
    identity = inspect(model).identity_key_from_primary_key((key,))
    loaded = session.identity_map.get(identity)
    if loaded is not None:
        session.expire(loaded, attrs)


def advance_last_contact(
    session: Session, model: type[Customer] | type[Conversation], key: str, at: datetime
) -> None:
    """Move ``last_contact_at`` of one row forward to ``at``, never backwards.

    A conditional UPDATE rather than read-compare-write, so concurrent messages of
    the same customer can arrive in any order and the newest time always wins.
    """
    advance_last_contacts(session, model, {key: at})


def advance_last_contacts(
    session: Session, model: type[Customer] | type[Conversation], times: dict[str, datetime]
) -> None:
    """advance_last_contact for many rows: one statement, run for each (key, time)."""
    if not times:
        return
    table = cast(Table, model.__table__)
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("key"),
            or_(
                table.c.last_contact_at.is_(None),
                table.c.last_contact_at < bindparam("at", type_=UTCDateTime),
            ),
        )
        .values(last_contact_at=bindparam("at", type_=UTCDateTime))
    )
    # Key order: concurrent batches take the row locks in the same order.
    session.execute(statement, [{"key": k, "at": times[k]} for k in sorted(times)])
    for key in times:
        expire_if_loaded(session, model, key, ["last_contact_at"])

"""Every customer's figures at once: one aggregate over the rows that own anything.

Each figure is grouped once over its whole table (leads by customer, owned bookings
and accepted quotes by their owner, see crm_core.stats.service); with the customers
whose stored figures are not zero, that is every customer whose figures can be
anything but zero. Only those whose figures differ are written, found by id. At a
million customers (bench/scale.py) one correlated-subquery UPDATE of every row took
15.7 s on an idle machine; this takes 1.5 to 2.5 s of database CPU when the figures are
right. When 264,000 customers' figures are all wrong, writing those rows is most of
the cost: 10.5 s of CPU while every new row version went to another page with ten
index entries, 6.2 s since the customers' pages keep 30 % free (migration 0013) and
many of them stay on their page without index entries (bench/scale_misses.py).
On PostgreSQL the customers table is locked in EXCLUSIVE mode for the statement:
reads go on, while concurrent figure updates wait and then recompute from what this
one committed, so neither can write stale figures or deadlock with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from crm_core.models import Booking, Customer, Lead, Quote
from crm_core.statuses import BookingStatus, QuoteStatus

# For this one statement: the planner cannot know how many owners the union yields
# (it guesses 200) and would look each of 264,000 up by index, twice as slow
# than one hash join; compiling it (JIT) took longer than running it; and the hash of
# the owners' figures fits in 64 MB instead of spilling to disk.
PLANNER_SETTINGS = ("enable_nestloop = off", "jit = off", "work_mem = '64MB'")


def _owned(entity: type[Booking] | type[Quote]) -> Select[Any]:
    """(owner, 0, bookings, 0) or (owner, 0, 0, revenue) for every owner of a booking
    that is not cancelled or of an accepted quote."""
    lead = aliased(Lead)
    owner = func.coalesce(lead.customer_id, entity.customer_id)
    if entity is Booking:
        alive: ColumnElement[bool] = Booking.status != BookingStatus.CANCELLED
        figures: tuple[ColumnElement[Any], ...] = (func.count(), literal_column("0"))
    else:
        alive = Quote.status == QuoteStatus.ACCEPTED
        figures = (literal_column("0"), func.sum(Quote.total))
    return (
        select(owner, literal_column("0"), *figures)
        .select_from(entity)
        .outerjoin(lead, lead.id == entity.lead_id)
        .where(alive, owner.is_not(None))
        .group_by(owner)
    )


def recompute_all_stats(session: Session) -> int:
    """Set-based recompute of every customer's figures (bulk repair).

    Returns the number of customers, all of whose figures are now right.
    """
    session.flush()
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("LOCK TABLE customers IN EXCLUSIVE MODE"))
        for setting in PLANNER_SETTINGS:
            session.execute(text(f"SET LOCAL {setting}"))
    customers = Customer.__table__
    assert isinstance(customers, Table)
    names = ("total_leads", "total_bookings", "total_revenue")
    zero: ColumnElement[Any] = literal_column("0")
    parts = union_all(
        select(
            Lead.customer_id.label("owner"),
            func.count().label("leads"),
            zero.label("bookings"),
            zero.label("revenue"),
        )
        .where(Lead.customer_id.is_not(None))
        .group_by(Lead.customer_id),
        _owned(Booking),
        _owned(Quote),
        # Customers whose figures are not zero, so that those with nothing left get zeros.
        select(customers.c.id, zero, zero, zero).where(
            or_(*(customers.c[name] != 0 for name in names))
        ),
    ).subquery()
    owner, *values = parts.c
    fresh = (
        select(
            owner.label("owner"),
            *(func.sum(v).label(n) for v, n in zip(values, names, strict=True)),
        )
        .group_by(owner)
        .subquery()
    )
    session.execute(
        update(customers)
        .where(customers.c.id == fresh.c.owner)
        .where(or_(*(customers.c[name] != fresh.c[name] for name in names)))
        .values({name: fresh.c[name] for name in names})
    )
    if postgresql:
        for setting in PLANNER_SETTINGS:
            session.execute(text(f"RESET {setting.split()[0]}"))
    session.expire_all()
    return int(session.execute(select(func.count()).select_from(customers)).scalar_one())

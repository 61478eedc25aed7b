"""Tag and status changes for many customers at once, and tag edits of one customer.

Each change is one set-based UPDATE over the customers a filter selects, touching only
the rows it changes (a customer that already has the tag keeps its ``updated_at``), so
100,000 customers change in one statement instead of 100,000 round trips. A tag change
also writes the customers' pairs in customer_tags (the index tag filters use) in one
more statement on PostgreSQL. The count a function returns is the number of customers
changed, or with ``dry_run`` the number that would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import (
    ARRAY,
    CTE,
    ColumnElement,
    Delete,
    Insert,
    Subquery,
    delete,
    func,
    insert,
    literal,
    not_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import Table
from sqlalchemy.types import JSON, Text

from crm_core.customers.filters import CustomerFilter, filter_condition, has_tag
from crm_core.customers.returned_events import EVENT_COLUMNS, emit_for_rows
from crm_core.customers.service import get_customer
from crm_core.errors import ValidationError
from crm_core.models import Customer, CustomerTag
from crm_core.models.types import utcnow
from crm_core.normalize import normalize_tags
from crm_core.planner import row_estimate
from crm_core.statuses import CustomerStatus, parse_status
from crm_core.webhooks.events import customer_data, emit_many, subscribed

# The transaction-local setting that makes customer_tags' update trigger step aside
# (migration 0016 names it in the trigger's WHEN).
CUSTOMER_TAGS_WRITTEN = "crm.customer_tags_written"
# Below this, any plan of a tag change is quick: no ANALYZE after it.
_MIN_MEASURED_CHANGE = 5_000


def count_customers(session: Session, wanted: CustomerFilter) -> int:
    """How many customers the filter selects."""
    return _count(session, filter_condition(session, wanted))


def _count(session: Session, where: ColumnElement[bool]) -> int:
    statement = select(func.count()).select_from(Customer).where(where)
    return int(session.execute(statement).scalar_one())


def _checked_tags(tags: Sequence[str]) -> list[str]:
    cleaned = normalize_tags(tags)
    if not cleaned:
        raise ValidationError("give at least one tag")
    return cleaned


def _count_or_update(
    session: Session, where: ColumnElement[bool], values: dict[str, object], dry_run: bool
) -> int:
    if dry_run:
        return _count(session, where)
    statement = (
        update(Customer)
        .where(where)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not subscribed(session, "customer.updated"):
        # No event to build: the count is enough, and 100,000 returned rows are not.
        return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
    rows = session.execute(statement.returning(*EVENT_COLUMNS)).all()
    emit_for_rows(session, "customer.updated", rows, list(values))
    return len(rows)


def _appended(session: Session, tag: str) -> ColumnElement[object]:
    if session.get_bind().dialect.name == "postgresql":
        return func.array_append(Customer.tags, type_coerce(tag, Text))
    return func.json_insert(Customer.tags, "$[#]", tag)


def _removed(session: Session, tag: str) -> ColumnElement[object]:
    if session.get_bind().dialect.name == "postgresql":
        return func.array_remove(Customer.tags, type_coerce(tag, Text))
    element = func.json_each(Customer.tags).table_valued("key", "value")
    kept = select(element.c.value).where(element.c.value != tag).order_by(element.c.key).subquery()
    rebuilt = select(func.coalesce(func.json_group_array(kept.c.value), literal("[]")))
    return type_coerce(func.json(rebuilt.scalar_subquery()), JSON)


def add_tags(
    session: Session, wanted: CustomerFilter, tags: Sequence[str], *, dry_run: bool = False
) -> dict[str, int]:
    """Add each tag to the selected customers that lack it: ``{tag: customers changed}``."""
    base = filter_condition(session, wanted)
    return {
        tag: _change_tag(
            session, base & not_(has_tag(session, tag)), tag, add=True, dry_run=dry_run
        )
        for tag in _checked_tags(tags)
    }


def remove_tags(
    session: Session, wanted: CustomerFilter, tags: Sequence[str], *, dry_run: bool = False
) -> dict[str, int]:
    """Remove each tag from the selected customers that carry it: ``{tag: changed}``."""
    base = filter_condition(session, wanted)
    return {
        tag: _change_tag(session, base & has_tag(session, tag), tag, add=False, dry_run=dry_run)
        for tag in _checked_tags(tags)
    }


def _change_tag(
    session: Session, where: ColumnElement[bool], tag: str, *, add: bool, dry_run: bool
) -> int:
    changed_tags = _appended(session, tag) if add else _removed(session, tag)
    if dry_run or session.get_bind().dialect.name != "postgresql":
        # SQLite's triggers write customer_tags row by row; it has no bulk goal.
        return _count_or_update(session, where, {"tags": changed_tags}, dry_run)
    # One UPDATE of the customers and one statement on customer_tags for the pairs,
    # instead of the update trigger's two statements per customer (5 s for 100,000
    # against about 1.5). The setting tells that trigger to step aside; it is local to
    # the transaction, so a rollback takes it back too.
    session.execute(select(func.set_config(CUSTOMER_TAGS_WRITTEN, "on", True)))
    statement = (
        update(Customer)
        .where(where)
        .values(tags=changed_tags, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if subscribed(session, "customer.updated"):
        rows = session.execute(statement.returning(*EVENT_COLUMNS)).all()
        returned = type_coerce([row.id for row in rows], ARRAY(Text))
        ids = select(func.unnest(returned).label("id")).subquery("changed")
        count = _write_pairs(session, tag, ids, add)
        emit_for_rows(session, "customer.updated", rows, ["tags"])
    else:
        changed = statement.returning(Customer.id).cte("changed")
        count = _write_pairs(session, tag, changed, add)
    session.execute(select(func.set_config(CUSTOMER_TAGS_WRITTEN, "", True)))
    _measure_pairs_again(session, count)
    return count


def _measure_pairs_again(session: Session, changed: int) -> None:
    """ANALYZE customer_tags after a change of a tenth of its pairs or more, which
    autovacuum would do a minute later. Until then the planner takes a tag just given
    to 100,000 customers for a rare one, and a list of that tag starts from its
    100,000 pairs instead of walking the list's index."""
    if changed < _MIN_MEASURED_CHANGE:
        return
    if changed >= 0.1 * row_estimate(session, "customer_tags"):
        session.execute(text("ANALYZE customer_tags"))


def _write_pairs(session: Session, tag: str, changed: Subquery | CTE, add: bool) -> int:
    """Insert (or delete) the pair (``tag``, customer) of each ``changed.c.id``; a CTE
    is the UPDATE those ids come from, run in the same statement."""
    statement: Insert | Delete
    pairs = cast(Table, CustomerTag.__table__)
    if add:
        statement = insert(pairs).from_select(
            ["tag", "customer_id"], select(literal(tag, Text), changed.c.id)
        )
    else:
        # DELETE … USING changed: one hash join, not an index probe per customer.
        statement = delete(pairs).where(pairs.c.tag == tag, pairs.c.customer_id == changed.c.id)
    if isinstance(changed, CTE):
        statement = statement.add_cte(changed)
    # SQLAlchemy keeps an INSERT's row count only when asked to.
    result = session.connection().execute(statement, execution_options={"preserve_rowcount": True})
    return int(result.rowcount)


def set_status(
    session: Session,
    wanted: CustomerFilter,
    status: str | CustomerStatus,
    *,
    dry_run: bool = False,
) -> int:
    """Give the selected customers this status; those that have it already stay as they are."""
    new = parse_status(CustomerStatus, status)
    where = filter_condition(session, wanted) & (Customer.status != new)
    return _count_or_update(session, where, {"status": new}, dry_run)


def change_customer_tags(
    session: Session, customer_id: str, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> Customer:
    """Add and remove tags on one customer, keeping the others (and their order)."""
    customer = get_customer(session, customer_id)
    removed = set(normalize_tags(remove))
    both = [tag for tag in normalize_tags(add) if tag in removed]
    if both:
        raise ValidationError(f"tag {both[0]!r} is both added and removed: give it once")
    kept = [tag for tag in customer.tags or [] if tag not in removed]
    tags = normalize_tags([*kept, *add])
    if tags != list(customer.tags or []):
        customer.tags = tags
        session.flush()
        emit_many(
            session,
            "customer.updated",
            [({**customer_data(customer), "changed": ["tags"]}, customer.id)],
        )
    return customer


__all__ = [
    "add_tags",
    "change_customer_tags",
    "count_customers",
    "remove_tags",
    "set_status",
]

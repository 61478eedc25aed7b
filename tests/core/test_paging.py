"""Pages, totals and cursors (crm_core.paging) on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.errors import ValidationError
from crm_core.models import Customer
from crm_core.paging import count_rows, decode_cursor, encode_cursor
from tests.conftest import Database

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _customers(session: Session, count: int, *, same_time: bool = False) -> list[str]:
    ids = [
        services.create_customer(session, name=f"K{n}", email=f"k{n}@x.dk").id for n in range(count)
    ]
    for n, customer_id in enumerate(ids):
        at = T0 if same_time else T0 + timedelta(minutes=n)
        session.execute(update(Customer).where(Customer.id == customer_id).values(created_at=at))
    session.commit()
    return ids


@pytest.mark.parametrize("same_time", [False, True])
def test_pages_follow_the_cursor_through_every_customer_once(
    session: Session, same_time: bool
) -> None:
    ids = _customers(session, 7, same_time=same_time)
    seen: list[str] = []
    after = None
    while True:
        page = services.customer_page(session, limit=3, after=after)
        assert str(page.total) == "7"
        seen += [customer.id for customer in page.items]
        after = page.next_after
        if after is None:
            break
    assert len(seen) == 7 and set(seen) == set(ids)
    assert seen == [c.id for c in services.query_customers(session)]  # the same order
    if not same_time:
        assert seen == list(reversed(ids))  # newest first


def test_customers_added_meanwhile_do_not_shift_the_next_page(session: Session) -> None:
    _customers(session, 4)
    first = services.customer_page(session, limit=2)
    services.create_customer(session, name="New", email="new@x.dk")  # newest of all
    session.commit()
    second = services.customer_page(session, limit=2, after=first.next_after)
    assert [c.name for c in first.items + second.items] == ["K3", "K2", "K1", "K0"]
    assert second.next_after is None


def test_totals_are_exact_up_to_the_cap_and_estimated_above(
    database: Database, session: Session
) -> None:
    _customers(session, 12)
    statement = select(Customer)
    assert (
        count_rows(session, statement, cap=20).count,
        count_rows(session, statement, cap=20).exact,
    ) == (12, True)
    above = count_rows(session, statement, cap=5)
    if database.kind == "sqlite":
        assert str(above) == "more than 5"  # SQLite has no estimate
    else:
        assert not above.exact and above.count >= 6 and str(above).startswith("about ")


def test_a_cursor_that_is_not_one_is_a_validation_error(session: Session) -> None:
    with pytest.raises(ValidationError, match="invalid cursor"):
        services.customer_page(session, after="not-a-cursor")
    with pytest.raises(ValidationError, match="invalid cursor"):
        decode_cursor(encode_cursor(["a"]), 2)
    assert decode_cursor(encode_cursor([T0, "x"]), 2) == [T0, "x"]

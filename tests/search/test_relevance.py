"""The labelled relevance set: the expected message in the top three for at least 90 %
of the Danish and English queries, on PostgreSQL and SQLite."""

from __future__ import annotations

from tests.conftest import Database
from tests.search.relevance import GOAL, QUERIES, load, top_three_share


def test_the_expected_message_comes_in_the_top_three(database: Database) -> None:
    with database.sessions() as session, session.begin():
        ids = load(session)
    with database.sessions() as session:
        share, missed = top_three_share(session, ids)
    assert share >= GOAL, f"{share:.0%} of {len(QUERIES)} queries; missed: {missed}"

"""Phrases find the words side by side, and only there, on both databases; on PostgreSQL
the index of word pairs (migration 0018) finds exactly what the phrase alone finds."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.search.messages import pg_pairs_query, pg_tsquery
from crm_core.search.query import parse_websearch
from tests.conftest import Database
from tests.search.stored import store_mail

BODIES = {
    "adjacent": "Hej, vi skal flytte og ønsker flytte rengøring af lejligheden.",
    "apart": "Vi skal flytte i maj. Rengøring af huset ønskes også.",
    "thanks": "Tak for rengøringen i går, alt var fint.",
    "thanks-apart": "Tak. Rengøringen for trappen var fin.",
    "hyphen": "Vi ønsker flytte-rengøring den 1. december.",
    "english": "We need window cleaning for the office, please.",
    "windows": "Please clean the window today. Cleaning of the floors too.",
    "subject-only": "Se emnet.",
}
SUBJECTS = {"subject-only": "Venlig hilsen fra kontoret"}


def _store(session: Session) -> dict[str, str]:
    """The stored messages' keys by their ids."""
    _, ids = store_mail(session, BODIES, subjects=SUBJECTS)
    return {message_id: key for key, message_id in ids.items()}


def _found(database: Database, query: str, names: dict[str, str]) -> set[str]:
    with database.sessions() as session:
        return {names[hit.message_id] for hit in services.search_messages(session, query).hits}


def test_a_phrase_finds_its_words_side_by_side(database: Database) -> None:
    with database.sessions() as session, session.begin():
        names = _store(session)
    assert _found(database, '"flytte rengøring"', names) == {"adjacent", "hyphen"}
    assert _found(database, '"window cleaning"', names) == {"english"}
    assert _found(database, '"tak for rengøringen"', names) == {"thanks"}
    assert _found(database, '"venlig hilsen"', names) == {"subject-only"}
    # A phrase and its exclusions, and a group with no phrase at all beside it.
    assert _found(database, '"flytte rengøring" -december', names) == {"adjacent"}
    assert _found(database, '"window cleaning" OR trappen', names) == {
        "english",
        "thanks-apart",
    }
    assert _found(database, '"flytte rengøring" OR "venlig hilsen"', names) == {
        "adjacent",
        "hyphen",
        "subject-only",
    }


QUERIES = [
    '"flytte rengøring"',
    '"flytte rengøringen"',
    '"tak for"',
    '"tak for rengøringen"',
    '"tak, for; rengøringen!"',
    '"i går"',
    '"window cleaning"',
    '"cleaning window"',
    '"clean the window"',
    '"venlig hilsen"',
    '"hilsen fra kontoret"',
    "flytte-rengøring",
    "mette@example.dk",
    '"flytte rengøring" -december',
    '"window cleaning" OR trappen',
    '"window cleaning" OR "tak for rengøringen"',
    '"flytte rengøring" "lejligheden"',
    '"the office" please',
    '"it\'s a \\ test"',
]


def test_postgresql_word_pairs_find_what_the_phrase_alone_finds(pg_database: Database) -> None:
    with pg_database.sessions() as session, session.begin():
        names = _store(session)
    with pg_database.sessions() as session:
        for query in QUERIES:
            parsed = parse_websearch(query)
            tsquery, _, params = pg_tsquery(parsed)
            alone = {
                names[row[0]]
                for row in session.execute(
                    text(f"SELECT id FROM email_messages m WHERE m.search_vector @@ {tsquery}"),
                    params,
                )
            }
            found = {names[hit.message_id] for hit in services.search_messages(session, query).hits}
            assert found == alone, query
        # Phrases of words that all stand side by side do use the pairs.
        assert pg_pairs_query(session, parse_websearch('"flytte rengøring"')) is not None
        assert pg_pairs_query(session, parse_websearch('"window cleaning" OR trappen')) is None
        # Under the danish configuration "for" is a stop word: no pair, no requirement.
        assert pg_pairs_query(session, parse_websearch('"tak for"')) is None


def test_postgresql_phrase_search_reads_the_pairs_index(pg_database: Database) -> None:
    with pg_database.sessions() as session:
        pairs = pg_pairs_query(session, parse_websearch('"flytte rengøring"'))
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            str(row[0])
            for row in session.execute(
                text(
                    "EXPLAIN SELECT message_id FROM message_search_pairs"
                    " WHERE pairs @@ CAST(:pairs AS tsquery)"
                ),
                {"pairs": pairs},
            )
        )
    assert "ix_message_search_pairs" in plan


def test_a_phrase_follows_a_changed_and_an_emptied_body(database: Database) -> None:
    with database.sessions() as session, session.begin():
        names = _store(session)
        ids = {key: message_id for message_id, key in names.items()}
        session.execute(
            text("UPDATE email_messages SET body = :body WHERE id = :id"),
            {"body": "Nu ønsker vi ugentlig rengøring i stedet.", "id": ids["adjacent"]},
        )
        session.execute(
            text("UPDATE email_messages SET body = '' WHERE id = :id"), {"id": ids["hyphen"]}
        )
    assert _found(database, '"flytte rengøring"', names) == set()
    assert _found(database, '"ugentlig rengøring"', names) == {"adjacent"}

"""Full-text search of every stored message (subject, body, sender and recipients).

PostgreSQL: the stored ``search_vector`` (migration 0006) holds subject and body under
the ``danish`` configuration (stemmed: "rengøringen" finds "rengøring"; Danish stop
words left out) and subject and addresses under ``simple`` (names, numbers and
addresses as written). The text is read by ``websearch_to_tsquery`` under both
configurations, either may match; hits are ranked by ``ts_rank`` (subject above body
above addresses, normalised by length) and the body's best passages are marked by
``ts_headline``.

SQLite has no Danish stemmer in the database. The FTS5 table holds the words as written
(lower-cased, æ, ø and å kept); the search stems each word of the query with the same
Snowball algorithm and looks for words that *begin* with the stem, so "rengøringen"
finds "rengøring" and "rengøringer". What SQLite cannot do: a stored word whose stem is
not a prefix of it is missed, compounds that begin with the stem are found too
("rengøringsfirma" for "rengøring"), a "phrase" matches its words as written (not
stemmed), and stop words are not dropped (every word of the query must be there).
Ranking is FTS5's bm25.

A phrase on PostgreSQL first looks up the pairs of its words that must stand side by
side ("flyt rengøring") in ``message_search_pairs`` (migration 0018), and only the
messages holding them are checked for the phrase itself. Without them every message
holding both words would be read and rechecked.

On both, when more than ``CANDIDATES`` messages match (a word in most of the mail, such
as "rengøring"), the newest of them are ranked (by ``sent_at`` on PostgreSQL, the most
recently stored on SQLite) and the total is given as "500 or more": ranking every
match would cost seconds, and for such words the recent mail is what a user wants.

The web-search syntax is the same on both: ``"flytte rengøring" -vinduer OR
hovedrengøring``.
"""

# SQL here is assembled from this module's constants; what a user typed is always a
# bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import snowballstemmer  # type: ignore[import-untyped]
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from crm_core.errors import ValidationError
from crm_core.models.types import UTCDateTime
from crm_core.search.query import Query, Term, parse_websearch
from crm_core.search.results import MARK_END, MARK_START, MessageHit, SearchResults, Snippet
from crm_core.statuses import Direction

DEFAULT_LIMIT = 20
# At most this many matches are ranked, the newest, and counted: ranking reads each
# match, and a word found in half of two million messages would take seconds. Finding
# the newest matches of a word in 1 to 3 % of the mail reads about this many over its
# share messages: at 1,000 that took up to 240 ms at 2,000,000 messages, at 500 up to
# 120 ms (bench/RESULTS.md).
CANDIDATES = 500
# The snippet is taken from the first characters of the body.
SNIPPET_BODY_CHARS = 20_000
PG_HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=10, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)
# bm25 weights of subject, body and people (from and to) on SQLite.
SQLITE_WEIGHTS = "5.0, 2.0, 1.0"
MIN_PREFIX = 3  # shorter stems are matched as whole words


def search_messages(
    session: Session,
    text_: str,
    *,
    customer_id: str | None = None,
    since: datetime | None = None,
    direction: str | Direction | None = None,
    limit: int = DEFAULT_LIMIT,
) -> SearchResults[MessageHit]:
    """Messages matching ``text_`` (web-search syntax), best first."""
    if limit < 1:
        raise ValidationError("limit must be at least 1")
    query = parse_websearch(text_)
    if not query:
        raise ValidationError(
            'nothing to search for: give a word or a "phrase" (a -word alone excludes only)'
        )
    filters = _Filters(customer_id, since, Direction(direction) if direction else None)
    if session.get_bind().dialect.name == "postgresql":
        return _postgresql(session, query, filters, limit)
    return _sqlite(session, query, filters, limit)


class _Filters:
    def __init__(
        self, customer_id: str | None, since: datetime | None, direction: Direction | None
    ) -> None:
        self.params: dict[str, Any] = {}
        self.clauses: list[str] = []
        if customer_id:
            self.clauses.append(
                "m.conversation_id IN (SELECT id FROM conversations WHERE customer_id = :customer)"
            )
            self.params["customer"] = customer_id
        if since:
            self.clauses.append("m.sent_at >= :since")
            self.params["since"] = since
        if direction:
            self.clauses.append("m.direction = :direction")
            self.params["direction"] = direction.value

    def sql(self) -> str:
        return "".join(f" AND {clause}" for clause in self.clauses)

    def bind(self, statement: Any) -> Any:
        if "since" in self.params:
            statement = statement.bindparams(bindparam("since", type_=UTCDateTime()))
        return statement


_HIT_COLUMNS = (
    "m.id, m.conversation_id, c.subject, c.customer_id, cu.name, m.direction, m.sent_at, "
    "m.subject, m.from_address"
)
_BELONGS_TO = (
    "JOIN conversations c ON c.id = m.conversation_id "
    "LEFT JOIN customers cu ON cu.id = c.customer_id "
)


def _hit(row: Sequence[Any], score: float, marked: str | None) -> MessageHit:
    return MessageHit(
        message_id=row[0],
        conversation_id=row[1],
        conversation_subject=row[2],
        customer_id=row[3],
        customer_name=row[4],
        direction=Direction(row[5]),
        sent_at=row[6],
        subject=row[7],
        from_address=row[8],
        score=round(score, 6),
        snippet=Snippet.parse(" ".join((marked or "").split())),
    )


# --- PostgreSQL -------------------------------------------------------------------


def _pg_term(index: int) -> str:
    # Most words read the same under both configurations ('ovn' | 'ovn'). The planner
    # takes such an OR for twice as common as the word, and a search of two words for
    # four times as common as it is, and then walks the newest messages for one that a
    # bitmap of its few matches would find at once; the CASE gives it the word once.
    # (Its functions are immutable: the planner computes it before estimating.)
    danish = f"websearch_to_tsquery('danish'::regconfig, :t{index})"
    simple = f"websearch_to_tsquery('simple'::regconfig, :t{index})"
    return f"(CASE WHEN {danish} = {simple} THEN {danish} ELSE {danish} || {simple} END)"


def pg_tsquery(query: Query) -> tuple[str, str, dict[str, str]]:
    """The tsquery expressions for a parsed web search (to match, and to rank by: the
    same without exclusions, which ``ts_rank`` scores as 0) and their parameters.

    Each term is read by ``websearch_to_tsquery`` under both configurations and either
    may match; terms are then joined as the search says. Joining two whole queries
    instead would let an exclusion (``-vinduer``) that one configuration applies be
    escaped through the other.
    """
    params: dict[str, str] = {}
    groups, ranked = [], []
    for group in query:
        parts, positives = [], []
        for term in group:
            index = len(params)
            params[f"t{index}"] = term.websearch()
            parts.append(f"!!{_pg_term(index)}" if term.negated else _pg_term(index))
            if not term.negated:
                positives.append(_pg_term(index))
        groups.append("(" + " && ".join(parts) + ")")
        ranked.append("(" + " && ".join(positives) + ")")
    return "(" + " || ".join(groups) + ")", "(" + " || ".join(ranked) + ")", params


def _is_phrase(term: Term) -> bool:
    return term.quoted or len(term.words) > 1


PG_CONFIGS = ("danish", "simple")


def _pg_word_pairs(session: Session, texts: Sequence[str]) -> list[list[list[str]]]:
    """For each text, the pairs of lexemes standing side by side in it under each
    configuration, as ``message_search_pairs`` holds them (``search_word_pairs``,
    migration 0018)."""
    columns, params = [], {}
    for index, value in enumerate(texts):
        params[f"p{index}"] = value
        columns += [
            f"tsvector_to_array(search_word_pairs(to_tsvector('{config}'::regconfig, :p{index})))"
            for config in PG_CONFIGS
        ]
    row = session.execute(text("SELECT " + ", ".join(columns)), params).one()
    per_text = len(PG_CONFIGS)
    return [[list(row[i * per_text + j]) for j in range(per_text)] for i in range(len(texts))]


def _tsquery_lexeme(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _all_of(parts: Sequence[str]) -> str:
    return "(" + " & ".join(parts) + ")"


def _any_of(parts: Sequence[str]) -> str:
    return "(" + " | ".join(parts) + ")"


def _every_pair(pairs: Sequence[str]) -> str:
    return _all_of([_tsquery_lexeme(pair) for pair in sorted(set(pairs))])


def pg_pairs_query(session: Session, query: Query) -> str | None:
    """A tsquery of word pairs that every message the search finds holds, or None when
    the search asks for no two words side by side.

    A phrase term is found under either configuration, so it requires the pairs of one
    or of the other; a configuration under which the phrase keeps no pair (its other
    words are stop words) requires nothing, and neither does the term. A group needs the
    pairs of each of its phrases; the search needs those of one of its groups, and so
    nothing when one group asks for none.
    """
    phrases = [
        term.raw.replace('"', " ")
        for group in query
        for term in group
        if not term.negated and _is_phrase(term)
    ]
    if not phrases:
        return None
    pairs = iter(_pg_word_pairs(session, phrases))
    groups = []
    for group in query:
        required = []
        for term in group:
            if term.negated or not _is_phrase(term):
                continue
            per_config = next(pairs)
            if all(per_config):
                required.append(_any_of([_every_pair(found) for found in per_config]))
        if not required:
            return None
        groups.append(_all_of(required))
    return _any_of(groups)


def _postgresql(
    session: Session, query: Query, filters: _Filters, limit: int
) -> SearchResults[MessageHit]:
    # The query expressions are written out where they are used (no CTE) so that the
    # planner sees their values and can estimate how common the words are.
    tsquery, rank_query, terms = pg_tsquery(query)
    phrase = any(_is_phrase(term) for group in query for term in group)
    params: dict[str, Any] = {
        "limit": limit,
        "candidates": CANDIDATES,
        "options": PG_HEADLINE_OPTIONS,
        **terms,
        **filters.params,
    }
    pairs = pg_pairs_query(session, query) if phrase else None
    matches = f"m.search_vector @@ {tsquery}"
    if pairs is not None:
        # The messages holding the pairs are the candidates, each checked for the phrase
        # itself. Written as a CASE, that check stays off the words' GIN index (a bitmap
        # of every message holding "rengøring" cost more than the whole search) and out
        # of the planner's estimate, which would take the phrase for its words merely
        # all present: the pairs' own frequency, which ANALYZE knows, then decides
        # between their index (a rare phrase) and walking the newest messages (one in
        # many messages, such as a common subject).
        params["pairs"] = pairs
        matches = (
            "m.id IN (SELECT message_id FROM message_search_pairs"
            " WHERE pairs @@ CAST(:pairs AS tsquery))"
            f" AND CASE WHEN {matches} THEN true ELSE false END"
        )
    statement = text(
        f"SELECT {_HIT_COLUMNS}, best.score,"
        f" ts_headline('danish'::regconfig, left(m.body, {SNIPPET_BODY_CHARS}),"
        f" {rank_query}, :options), best.found"
        " FROM ("
        f"  SELECT recent.id, recent.sent_at, ts_rank(recent.search_vector, {rank_query}, 1)"
        "   AS score, count(*) OVER () AS found"
        "  FROM ("
        "   SELECT m.id, m.sent_at, m.search_vector FROM email_messages m"
        f"   WHERE {matches}{filters.sql()}"
        "   ORDER BY m.sent_at DESC LIMIT :candidates) AS recent"
        "  ORDER BY score DESC, recent.sent_at DESC, recent.id LIMIT :limit) AS best"
        f" JOIN email_messages m ON m.id = best.id {_BELONGS_TO}"
        " ORDER BY best.score DESC, best.sent_at DESC, best.id"
    ).columns(sent_at=UTCDateTime())
    rows = session.execute(filters.bind(statement), params).all()
    hits = [_hit(row, float(row[9]), row[10]) for row in rows]
    found = int(rows[0][11]) if rows else 0
    return SearchResults(hits, found, found >= CANDIDATES)


# --- SQLite -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    return snowballstemmer.stemmer("danish")


def _fts_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _fts_word(word: str) -> str:
    if word.isdigit():
        return _fts_string(word)
    stem = str(_stemmer().stemWord(word))
    if len(stem) < MIN_PREFIX:
        return _fts_string(word)
    return _fts_string(stem) + "*"


def _fts_term(term: Term) -> str:
    if term.quoted or len(term.words) > 1:
        # A phrase (or an address, a number with dots …) is matched word for word:
        # prefixes inside a phrase cost FTS5 several times as much.
        return _fts_string(" ".join(term.words))
    return _fts_word(term.words[0])


def fts5_expression(query: Query) -> str:
    """The FTS5 query for a parsed web search: stems as prefixes, NOT, OR."""
    groups = []
    for group in query:
        positives = " AND ".join(f"({_fts_term(t)})" for t in group if not t.negated)
        negatives = "".join(f" NOT ({_fts_term(t)})" for t in group if t.negated)
        groups.append(f"(({positives}){negatives})")
    return " OR ".join(groups)


def _sqlite(
    session: Session, query: Query, filters: _Filters, limit: int
) -> SearchResults[MessageHit]:
    match = fts5_expression(query)
    joins = (
        "JOIN message_search_rows r ON r.rowid = s.rowid "
        "JOIN email_messages m ON m.id = r.message_id "
    )
    # FTS5 hands out matches newest first (rowid order) without sorting; bm25 is then
    # computed for the candidates only.
    recent = text(
        f"SELECT s.rowid, bm25(message_search, {SQLITE_WEIGHTS}) FROM message_search s "
        f"{joins if filters.clauses else ''}"
        f"WHERE message_search MATCH :match{filters.sql()}"
        " ORDER BY s.rowid DESC LIMIT :candidates"
    )
    candidates = [
        (int(rowid), float(rank))
        for rowid, rank in session.execute(
            filters.bind(recent), {"match": match, "candidates": CANDIDATES, **filters.params}
        )
    ]
    best = sorted(candidates, key=lambda item: (item[1], -item[0]))[:limit]
    if not best:
        return SearchResults([], 0)
    # Snippets for the best rows only: FTS5 would build one for every match otherwise.
    details = (
        text(
            f"SELECT {_HIT_COLUMNS}, s.rowid,"
            f" snippet(message_search, 1, '{MARK_START}', '{MARK_END}', '…', 24)"
            f" FROM message_search s {joins}{_BELONGS_TO}"
            "WHERE message_search MATCH :match AND s.rowid IN :rowids"
        )
        .bindparams(bindparam("rowids", expanding=True))
        .columns(sent_at=UTCDateTime())
    )
    found = {
        int(row[9]): row
        for row in session.execute(details, {"match": match, "rowids": [r for r, _ in best]})
    }
    hits = [_hit(found[rowid], -rank, found[rowid][10]) for rowid, rank in best]
    return SearchResults(hits, len(candidates), len(candidates) >= CANDIDATES)

"""Finding a customer from any fragment: name, email, phone in any spelling, company,
address; tolerant of small typos ("Mete Hansn" finds Mette Hansen).

Every word of the search must be found in the customer's text, as written (a fragment
will do) or misspelt by a letter or two (``crm_core.search.spelling`` says how far):
- PostgreSQL: one lower-case text per customer (customer_search_texts with its trigram
  GIN index, migration 0014). A word is found there as a substring (``LIKE``); its
  misspellings are first looked up among the distinct words of all customers
  (customer_search_words with its trigram index, migration 0019) and found the same
  way. A word of one or two letters is found by trigram word similarity (``<%``). Tag
  and status changes leave both tables alone.
- SQLite: the FTS5 trigram table proposes the customers sharing the most trigrams with
  the words (bm25), and each word is then checked against the candidate's words.
A phone number (only digits and + - ( ) . / spaces) is compared by its last eight
digits, so "12 34 56 78", "+45 12345678" and "12345678" are one number.
"""

# SQL here is assembled from this module's constants; what a user typed is always a
# bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_core.errors import ValidationError
from crm_core.search.query import phone_digits, words_of
from crm_core.search.results import CustomerHit, SearchResults, Snippet
from crm_core.search.schema import PG_CUSTOMER_TEXT, PG_CUSTOMER_TEXT_JOIN
from crm_core.search.spelling import (
    MIN_LETTERS,
    is_fuzzy,
    letter_words,
    misspelt_span,
    near,
    spellings,
)

DEFAULT_LIMIT = 20
# SQLite: how many trigram candidates are checked word by word.
SQLITE_CANDIDATES = 500
FIELDS = ("name", "email", "phone", "company_name", "address")
# A customer merged into another is found as the one it was merged into.
LIVE = "merged_into_id IS NULL"


@dataclass(frozen=True)
class _Row:
    customer_id: str
    name: str
    email: str | None
    phone: str | None
    company_name: str | None
    address: str | None
    score: float

    def value(self, field: str) -> str:
        return str(getattr(self, field) or "")


def search_customers(
    session: Session, text_: str, *, limit: int = DEFAULT_LIMIT
) -> SearchResults[CustomerHit]:
    """Customers matching every word of ``text_``, best first."""
    if limit < 1:
        raise ValidationError("limit must be at least 1")
    digits = phone_digits(text_)
    words = [] if digits else words_of(text_)
    if not digits and not words:
        raise ValidationError(
            "nothing to search for: give a word, a name, an email or a phone number"
        )
    if session.get_bind().dialect.name == "postgresql":
        rows, total = _postgresql(session, words, digits, limit)
        lower_bound = False
    else:
        rows, total, lower_bound = _sqlite(session, words, digits, limit)
    hits = [_hit(row, words, digits) for row in rows]
    return SearchResults(hits, total, total_is_lower_bound=lower_bound)


def _row(values: Sequence[Any], score: float) -> _Row:
    return _Row(str(values[0]), str(values[1]), values[2], values[3], values[4], values[5], score)


# --- PostgreSQL -------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _postgresql(
    session: Session, words: Sequence[str], digits: str | None, limit: int
) -> tuple[list[_Row], int]:
    params: dict[str, Any] = {"limit": limit}
    if digits:
        params["like"] = f"%{digits}%"
        where = f"{PG_CUSTOMER_TEXT} LIKE :like"
        score = "1.0"
    else:
        conditions, similarities = [], []
        misspelt = _pg_spellings(session, words)
        for index, word in enumerate(words):
            params[f"w{index}"] = word
            if len(word) < MIN_LETTERS:  # no trigram to look a fragment up by
                conditions.append(f":w{index} <% {PG_CUSTOMER_TEXT}")
            else:
                found = []
                for number, spelling in enumerate(_covering([word, *misspelt.get(word, [])])):
                    params[f"l{index}_{number}"] = f"%{_escape_like(spelling)}%"
                    found.append(f"{PG_CUSTOMER_TEXT} LIKE :l{index}_{number}")
                conditions.append("(" + " OR ".join(found) + ")")
            similarities.append(f"word_similarity(:w{index}, {PG_CUSTOMER_TEXT})")
        params["q"] = " ".join(words)
        where = " AND ".join(conditions)
        score = (
            f"({' + '.join(similarities)}) / {len(words)}"
            " + 0.5 * similarity(lower(customers.name), :q)"
            " + CASE WHEN lower(customers.name) = :q THEN 1 ELSE 0 END"
        )
    # Ranking reads every match, so counting them in the same statement is nearly free
    # (a second, capped count repeated the index scans: 40 % of the time at 1,000,000).
    found_rows = session.execute(
        text(
            "SELECT customers.id, name, email, phone, company_name, address, "
            f"{score} AS score, count(*) OVER () AS total"
            f" FROM customers {PG_CUSTOMER_TEXT_JOIN} WHERE ({where}) AND {LIVE} "
            "ORDER BY score DESC, name, customers.id LIMIT :limit"
        ),
        params,
    ).all()
    rows = [_row(row, float(row[6])) for row in found_rows]
    return rows, int(found_rows[0][7]) if found_rows else 0


def _covering(spellings: list[str]) -> list[str]:
    """The spellings without those holding another as a fragment: ``LIKE '%ber%'``
    finds every customer ``LIKE '%berg%'`` would."""
    return [
        spelling
        for spelling in spellings
        if not any(other != spelling and other in spelling for other in spellings)
    ]


# How alike (pg_trgm similarity) a stored word must be to a typed one to be checked
# for a misspelling: below one edit's worst case ("tna" / "tina": 0.29).
PG_CANDIDATE_SIMILARITY = 0.2
# At most this many misspellings of one word are looked for, the closest.
MAX_SPELLINGS = 20


def _pg_spellings(session: Session, words: Sequence[str]) -> dict[str, list[str]]:
    """For each typed word no customer holds as written, the stored words it may stand
    for (customer_search_words, migration 0019)."""
    fuzzy = sorted({word for word in words if is_fuzzy(word)})
    if not fuzzy:
        return {}
    session.execute(
        text("SELECT set_config('pg_trgm.similarity_threshold', :limit, true)"),
        {"limit": str(PG_CANDIDATE_SIMILARITY)},
    )
    params = {f"w{index}": word for index, word in enumerate(fuzzy)}
    alike = " OR ".join(f"word % :w{index}" for index in range(len(fuzzy)))
    stored = set(
        session.execute(
            text(f"SELECT word FROM customer_search_words WHERE {alike}"), params
        ).scalars()
    )
    return {word: spellings(word, stored)[:MAX_SPELLINGS] for word in fuzzy if word not in stored}


# --- SQLite -----------------------------------------------------------------------


def _trigrams(word: str) -> set[str]:
    return {word[i : i + 3] for i in range(len(word) - 2)}


def _fts_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _sqlite(
    session: Session, words: Sequence[str], digits: str | None, limit: int
) -> tuple[list[_Row], int, bool]:
    """The rows, how many match, and whether more may (only the best candidates are
    checked)."""
    select = (
        "SELECT c.id, c.name, c.email, c.phone, c.company_name, c.address, s.doc "
        "FROM customer_search s "
        "JOIN customer_search_rows r ON r.rowid = s.rowid "
        "JOIN customers c ON c.id = r.customer_id "
    )
    if digits:
        match = _fts_string(digits)
        rows = session.execute(
            text(select + f"WHERE customer_search MATCH :match AND c.{LIVE} ORDER BY c.name, c.id"),
            {"match": match},
        ).all()
        found = [_row(row, 1.0) for row in rows]
        return found[:limit], len(found), False
    grams = sorted(set().union(*(_trigrams(word) for word in words)))
    if grams:
        candidates = session.execute(
            text(
                select + f"WHERE customer_search MATCH :match AND c.{LIVE} ORDER BY rank LIMIT :n"
            ),
            {"match": " OR ".join(_fts_string(g) for g in grams), "n": SQLITE_CANDIDATES},
        ).all()
    else:  # only words of one or two letters: no trigram to look up
        like = [f"s.doc LIKE :l{i} ESCAPE '\\'" for i in range(len(words))]
        candidates = session.execute(
            text(select + "WHERE " + " AND ".join(like) + " LIMIT :n"),
            {
                **{f"l{i}": f"%{_escape_like(w)}%" for i, w in enumerate(words)},
                "n": SQLITE_CANDIDATES,
            },
        ).all()
    query = " ".join(words)
    scored: list[_Row] = []
    for row in candidates:
        doc = str(row[6]).lower()
        if not _holds_all(words, doc):
            continue
        ratios = [100.0 if word in doc else fuzz.partial_ratio(word, doc) for word in words]
        name = str(row[1]).lower()
        score = sum(ratios) / len(ratios) / 100 + 0.5 * fuzz.ratio(query, name) / 100
        score += 1.0 if name == query else 0.0
        scored.append(_row(row, score))
    scored.sort(key=lambda r: (-r.score, r.name, r.customer_id))
    return scored[:limit], len(scored), len(candidates) >= SQLITE_CANDIDATES


def _holds_all(words: Sequence[str], doc: str) -> bool:
    """The rule of crm_core.search.spelling, for one candidate's text: each word as a
    fragment, or misspelt (the text's words split once, and only when needed)."""
    stored: set[str] | None = None
    for word in words:
        if word in doc:
            continue
        if not is_fuzzy(word):
            return False
        stored = letter_words(doc) if stored is None else stored
        if not any(near(word, candidate) for candidate in stored):
            return False
    return True


# --- snippets ---------------------------------------------------------------------


def _digit_span(value: str, digits: str) -> tuple[int, int] | None:
    """Where ``digits`` stand in ``value`` when its other characters are ignored."""
    positions = [i for i, char in enumerate(value) if char.isdigit()]
    joined = "".join(value[i] for i in positions)
    at = joined.find(digits)
    if at < 0:
        return None
    return positions[at], positions[at + len(digits) - 1] + 1


def _word_span(value: str, word: str) -> tuple[float, tuple[int, int] | None]:
    lowered = value.lower()
    at = lowered.find(word)
    if at >= 0:
        return 100.0, (at, at + len(word))
    found = misspelt_span(word, lowered)
    if found is None:
        return 0.0, None
    start, end = found
    return fuzz.ratio(word, lowered[start:end]), found


def _hit(row: _Row, words: Sequence[str], digits: str | None) -> CustomerHit:
    """The hit with the field that matched best and the matching stretches marked."""
    best: tuple[float, str, list[tuple[int, int]]] = (-1.0, "name", [])
    for field in FIELDS:
        value = row.value(field)
        if not value:
            continue
        if digits:
            span = _digit_span(value, digits)
            candidate = (100.0, field, [span]) if span else (0.0, field, [])
        else:
            found = [_word_span(value, word) for word in words]
            spans = [span for _, span in found if span is not None]
            candidate = (sum(score for score, _ in found), field, spans)
        if candidate[0] > best[0]:
            best = candidate
    _, field, spans = best
    merged = _merge(spans)
    return CustomerHit(
        customer_id=row.customer_id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        company_name=row.company_name,
        address=row.address,
        score=round(row.score, 4),
        matched_field=field,
        snippet=Snippet(row.value(field), tuple(merged)),
    )


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

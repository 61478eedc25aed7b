"""Search latency on large generated data, and what the index costs ingestion.

    python -m bench.search postgresql [--customers 1000000] [--messages 2000000]
    python -m bench.search sqlite [--messages 100000]
    python -m bench.search ingest [--messages 20000] [--repeat 3]
    python -m bench.search postgresql|sqlite --per-query   (each query of the data built)

postgresql / sqlite: builds customers, conversations and messages through the real
schema (migrated to head; on PostgreSQL customers with INSERT … SELECT over
generate_series and messages with COPY, the search indexes rebuilt after the load
exactly as the migrations define them; on SQLite with plain INSERTs, so the FTS5
triggers do the indexing). Bodies draw their words by Zipf's law from a vocabulary of
20,000 (``bench.search_data.vocabulary``), as natural text does. Then it times
``search_customers`` / ``search_messages`` as the CLI calls them, one session per query:
one-word, two-word, phrase and misspelt-name queries (``bench.search_data``); p50/p99
per kind and for the mix. (Relevance is checked by tests/search/test_relevance.py.)

ingest: the pipeline of bench/pipeline.py (mbox → Redis → workers → PostgreSQL) with and
without the search objects (the messages' generated column, word pairs and GIN indexes,
the customers' trigram index and word table dropped), interleaved, medians of
``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

from bench.common import (
    OUT,
    PG_DSN,
    PG_URL,
    append_result,
    clear_namespace,
    drop_schema,
    fresh_schema,
    machine,
    today,
)
from bench.search_data import (
    CITIES,
    COMPANY_SUFFIXES,
    FIRST_NAMES,
    LAST_NAMES,
    ONE_WORD,
    PHRASES,
    STREETS,
    SUBJECTS,
    TWO_WORDS,
    misspelt,
    vocabulary,
)
from crm_core import services
from crm_core.db import make_engine, make_session_factory
from migrations import upgrade

PG_SCHEMA = "bench_search"
SEARCH_INDEXES = (
    "ix_email_messages_search",
    "ix_message_search_pairs",
    "ix_customer_search_texts_doc",
)
SAMPLES_PER_KIND = 100


def _array(values: list[str] | tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def build_postgresql(customers: int, messages: int) -> float:
    """Fill a fresh schema; seconds taken."""
    fresh_schema(PG_SCHEMA)
    started = time.perf_counter()
    with psycopg.connect(PG_DSN, autocommit=True) as db:
        db.execute(f"SET search_path = {PG_SCHEMA}, public")
        db.execute("SET maintenance_work_mem = '1GB'")
        db.execute("SELECT setseed(0.42)")
        indexes = [
            row[0]
            for row in db.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = ANY(%s)",
                (PG_SCHEMA, list(SEARCH_INDEXES)),
            )
        ]
        db.execute("DROP INDEX " + ", ".join(SEARCH_INDEXES))
        first, last = _array(FIRST_NAMES), _array(LAST_NAMES)
        streets, cities = _array(STREETS), _array(CITIES)
        suffixes, subjects = _array(COMPANY_SUFFIXES), _array(SUBJECTS)
        print(f"customers: {customers:,} …", flush=True)
        db.execute(
            f"""
            INSERT INTO customers (id, name, email, email_normalized, phone, address,
                company_name, status, tags, total_leads, total_bookings, total_revenue,
                created_at, updated_at)
            SELECT 'c' || g, f || ' ' || l, lower(f) || '.' || lower(l) || g || '@example.dk',
                lower(f) || '.' || lower(l) || g || '@example.dk',
                CASE g % 3 WHEN 0 THEN '+45 ' || p WHEN 1 THEN
                    substr(p, 1, 2) || ' ' || substr(p, 3, 2) || ' ' || substr(p, 5, 2) || ' '
                    || substr(p, 7, 2) ELSE p END,
                ({streets})[1 + g % {len(STREETS)}] || ' ' || (1 + g % 180) || ', '
                    || ({cities})[1 + g % {len(CITIES)}],
                CASE WHEN g % 5 = 0 THEN l || ' ' || ({suffixes})[1 + g % {len(COMPANY_SUFFIXES)}]
                    END,
                'active', '{{}}', 0, 0, 0, now(), now()
            FROM (SELECT g, ({first})[1 + floor(random() * {len(FIRST_NAMES)})::int] AS f,
                         ({last})[1 + floor(random() * {len(LAST_NAMES)})::int] AS l,
                         (20000000 + g * 37 % 79999999)::text AS p
                  FROM generate_series(1, {customers}) AS g) AS people
            """
        )
        db.execute(
            f"""
            INSERT INTO conversations (id, customer_id, subject, channel, status, mailbox,
                created_at, updated_at)
            SELECT 'k' || g, 'c' || g, ({subjects})[1 + g % {len(SUBJECTS)}], 'email',
                'active', '', now(), now()
            FROM generate_series(1, {customers}) AS g
            """
        )
        print(f"messages: {messages:,} …", flush=True)
        copy_messages(db, customers, messages)
        print("indexes …", flush=True)
        for definition in indexes:
            db.execute(definition)
        db.execute("ANALYZE")
    return time.perf_counter() - started


def bodies(rng: random.Random, count: int) -> list[str]:
    """Message bodies of 20 to 79 words drawn by Zipf's law from the vocabulary."""
    words = vocabulary()
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))
    return [
        " ".join(rng.choices(words, cum_weights=weights, k=20 + g % 60)) + f" ordre {g}"
        for g in range(1, count + 1)
    ]


def copy_messages(db: psycopg.Connection[Any], customers: int, messages: int) -> None:
    """COPY the messages in, in slices: the generated column is computed as they land."""
    rng = random.Random(42)
    now = datetime.now(UTC)
    step = 100_000
    columns = (
        "id, conversation_id, mailbox, from_address, to_address, subject, body, attachments,"
        " direction, status, is_ai_generated, sent_at, created_at, updated_at"
    )
    for start in range(1, messages + 1, step):
        count = min(step, messages - start + 1)
        texts = bodies(rng, count)
        with db.cursor().copy(f"COPY email_messages ({columns}) FROM STDIN") as copy:
            for offset, body in enumerate(texts):
                g = start + offset
                customer = f"customer{1 + (g - 1) % customers}@example.dk"
                inbound = g % 2 == 0
                copy.write_row(
                    (f"m{g}", f"k{1 + (g - 1) % customers}", "",
                     customer if inbound else "info@rendetalje.dk",
                     "info@rendetalje.dk" if inbound else customer,
                     SUBJECTS[g % len(SUBJECTS)], body, "[]",
                     "inbound" if inbound else "outbound", "sent", False,
                     now - timedelta(minutes=rng.randrange(730 * 24 * 60)), now, now)
                )  # fmt: skip
        print(f"  {start + count - 1:,}", flush=True)


def build_sqlite(path: Path, customers: int, messages: int) -> float:
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    rng = random.Random(42)
    started = time.perf_counter()
    engine = make_engine(url)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    now = "2026-11-30 10:00:00.000000"
    cursor.execute("BEGIN")
    for g in range(1, customers + 1):
        f, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{f.lower()}.{last.lower()}{g}@example.dk"
        phone = str(20_000_000 + g * 37 % 79_999_999)
        cursor.execute(
            "INSERT INTO customers (id, name, email, email_normalized, phone, address,"
            " status, tags, total_leads, total_bookings, total_revenue, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, 'active', '[]', 0, 0, 0, ?, ?)",
            (f"c{g}", f"{f} {last}", email, email, phone,
             f"{STREETS[g % len(STREETS)]} {g % 180}, {CITIES[g % len(CITIES)]}", now, now),
        )  # fmt: skip
        cursor.execute(
            "INSERT INTO conversations (id, customer_id, subject, channel, status, mailbox,"
            " created_at, updated_at) VALUES (?, ?, ?, 'email', 'active', '', ?, ?)",
            (f"k{g}", f"c{g}", SUBJECTS[g % len(SUBJECTS)], now, now),
        )
    for g, body in enumerate(bodies(rng, messages), start=1):
        customer = 1 + (g - 1) % customers
        cursor.execute(
            "INSERT INTO email_messages (id, conversation_id, mailbox, from_address,"
            " to_address, subject, body, attachments, direction, status, is_ai_generated,"
            " sent_at, created_at, updated_at) VALUES (?, ?, '', ?, 'info@rendetalje.dk',"
            " ?, ?, '[]', 'inbound', 'sent', 0, ?, ?, ?)",
            (f"m{g}", f"k{customer}", f"customer{customer}@example.dk",
             SUBJECTS[g % len(SUBJECTS)], body, now, now, now),
        )  # fmt: skip
    cursor.execute("COMMIT")
    raw.close()
    engine.dispose()
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_queries(
    sessions: Any, kinds: dict[str, tuple[Callable[[Any, str], Any], list[str]]]
) -> dict[str, list[float]]:
    """Milliseconds per query, SAMPLES_PER_KIND per kind, kinds interleaved."""
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for run in range(-1, SAMPLES_PER_KIND):  # run -1 warms the caches
        for kind, (search, queries) in kinds.items():
            query = queries[run % len(queries)]
            started = time.perf_counter()
            with sessions() as session:
                search(session, query)
            if run >= 0:
                timings[kind].append((time.perf_counter() - started) * 1000)
    return timings


def name_samples(sessions: Any, count: int) -> list[str]:
    with sessions() as session:
        rows = session.execute(
            text("SELECT name FROM customers ORDER BY id LIMIT :n"),
            {"n": count * 7},
        ).all()
    return [misspelt(str(row[0])) for row in rows[::7]]


Kinds = dict[str, tuple[Callable[[Any, str], Any], list[str]]]


def query_kinds(sessions: Any) -> Kinds:
    return {
        "one word": (lambda s, q: services.search_messages(s, q), ONE_WORD),
        "two words": (lambda s, q: services.search_messages(s, q), TWO_WORDS),
        "phrase": (lambda s, q: services.search_messages(s, q), PHRASES),
        "misspelt name": (lambda s, q: services.search_customers(s, q), name_samples(sessions, 20)),
    }


def measure(url: str, schema: str | None) -> dict[str, list[float]]:
    engine = make_engine(url, schema=schema)
    sessions = make_session_factory(engine)
    timings = time_queries(sessions, query_kinds(sessions))
    engine.dispose()
    return timings


def per_query(url: str, schema: str | None, runs: int) -> None:
    """Median and slowest of ``runs`` timings of each query, and what it found: where a
    kind's p99 comes from (printed only, not a results row)."""
    engine = make_engine(url, schema=schema)
    sessions = make_session_factory(engine)
    for kind, (search, queries) in query_kinds(sessions).items():
        for query in queries:
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                with sessions() as session:
                    found = search(session, query)
                timings.append((time.perf_counter() - started) * 1000)
            print(
                f"{kind:>14} {query!r:30} median {statistics.median(timings):7.1f} ms"
                f"  slowest {max(timings):7.1f} ms  found {found.total}",
                flush=True,
            )
    engine.dispose()


def report(
    database: str, size: str, build_s: float | None, timings: dict[str, list[float]]
) -> None:
    mix = [value for values in timings.values() for value in values]
    cells = []
    for kind, values in timings.items():
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"{kind:>14}: p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
        cells.append(f"{p50:.1f} / {p99:.1f}")
    p50, p99 = percentile(mix, 0.5), percentile(mix, 0.99)
    built = "reused" if build_s is None else f"{build_s:.0f}"
    print(f"{'mix':>14}: p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    append_result(
        "Search latency (bench/search.py)",
        ["date", "machine", "database", "data", "build s", "one word p50/p99 ms",
         "two words", "phrase", "misspelt name", "mix p50/p99 ms"],
        [today(), machine(), database, size, built, *cells, f"{p50:.1f} / {p99:.1f}"],
    )  # fmt: skip


# --- ingestion with and without the index ------------------------------------------


def drop_pairs_triggers(db: psycopg.Connection[Any]) -> None:
    """The triggers that keep message_search_pairs (migrations 0018 and 0020)."""
    for event in ("insert", "update", "delete", "truncate"):
        db.execute(f"DROP TRIGGER message_search_pairs_{event} ON email_messages")


def drop_search_index(schema: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as db:
        db.execute(f'SET search_path = "{schema}", public')
        db.execute("DROP INDEX ix_customer_search_texts_doc")
        for event in ("insert", "update", "delete", "truncate"):
            db.execute(f"DROP TRIGGER customer_search_words_{event} ON customer_search_texts")
        db.execute("DROP TABLE customer_search_words")
        drop_pairs_triggers(db)
        db.execute("DROP TABLE message_search_pairs")
        db.execute("ALTER TABLE email_messages DROP COLUMN search_vector")


def ingest(messages: int, repeat: int) -> None:
    from bench.pipeline import mailbox_file, run_pipeline, write_config

    mbox = mailbox_file(messages)
    seconds: dict[bool, list[float]] = {True: [], False: []}
    count = 0
    for run in range(repeat):
        for indexed in (True, False) if run % 2 == 0 else (False, True):
            schema = fresh_schema(f"bench_ingest_{uuid.uuid4().hex[:8]}")
            if not indexed:
                drop_search_index(schema)
            namespace = f"crm-bench-{uuid.uuid4().hex[:8]}"
            config = OUT / "search-ingest.toml"
            write_config(config, schema, namespace, 2, 4)
            try:
                label = "with" if indexed else "without"
                print(f"run {run + 1}: pipeline {label} the search index …", flush=True)
                elapsed, summary = run_pipeline(mbox, config, OUT / "search-ingest-worker.log")
                seconds[indexed].append(elapsed)
                print(f"  {elapsed:.1f} s", flush=True)
                count = int(summary["messages"])
            finally:
                drop_schema(schema)
                clear_namespace(namespace)
    with_rate = count / statistics.median(seconds[True])
    without_rate = count / statistics.median(seconds[False])
    change = with_rate / without_rate - 1
    print(f"with {with_rate:,.0f} msg/s, without {without_rate:,.0f} msg/s: {change:+.1%}")
    for indexed, label in ((True, "with"), (False, "without")):
        print(f"  {label} (s): " + ", ".join(f"{s:.1f}" for s in seconds[indexed]))
    append_result(
        "Ingestion with and without the search index (bench/search.py ingest)",
        ["date", "machine", "messages", "runs", "with index msg/s", "without msg/s", "change"],
        [today(), machine(), str(count), f"median of {repeat} each, interleaved",
         f"{with_rate:,.0f}", f"{without_rate:,.0f}", f"{change:+.1%}"],
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", choices=["postgresql", "sqlite", "ingest"])
    parser.add_argument("--customers", type=int)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="search the data already built")
    parser.add_argument(
        "--per-query", action="store_true", help="time each query of the data already built"
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.database == "ingest":
        ingest(args.messages or 20_000, args.repeat)
        return 0
    if args.per_query:
        if args.database == "postgresql":
            per_query(PG_URL, PG_SCHEMA, runs=5)
        else:
            per_query(f"sqlite:///{OUT / 'search.db'}", None, runs=5)
        return 0
    if args.database == "postgresql":
        customers, messages = args.customers or 1_000_000, args.messages or 2_000_000
        build_s = None if args.reuse else build_postgresql(customers, messages)
        timings = measure(PG_URL, PG_SCHEMA)
    else:
        customers, messages = args.customers or 10_000, args.messages or 100_000
        path = OUT / "search.db"
        build_s = None if args.reuse else build_sqlite(path, customers, messages)
        timings = measure(f"sqlite:///{path}", None)
    size = f"{customers:,} customers, {messages:,} messages"
    report(args.database, size, build_s, timings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

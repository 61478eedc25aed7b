"""What each search object costs PostgreSQL per message stored, server side.

    python -m bench.search_store_cost [--messages 6000] [--repeat 3]

Stores ``--messages`` messages one INSERT at a time, as ingestion does, from a loop in
PL/pgSQL (no round trips in the time), into schemas at head with the search objects
taken away one after another: everything; without the word pairs' GIN index; without
the pairs; also without the words' GIN index; without the generated ``search_vector``
too. The differences between neighbouring rows are what each object costs. Bodies are
three of bench.search's generated bodies each (about 130 lexemes). Medians of
``--repeat`` runs, the settings interleaved; rows in bench/RESULTS.md.

This shows where the time goes; bench/search.py ingest, the whole pipeline with and
without the objects, is the measurement of what ingestion pays.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from typing import Any

import psycopg

from bench.common import PG_DSN, append_result, drop_schema, fresh_schema, machine, today
from bench.search import bodies, drop_pairs_triggers

SETTINGS = (
    "everything",
    "no pairs' GIN index",
    "no word pairs",
    "no pairs, no words' GIN index",
    "no search objects",
)

STORE_EACH = """
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT n, body FROM bodies ORDER BY n LOOP
    INSERT INTO email_messages (id, conversation_id, from_address, to_address, subject,
        body, attachments, direction, status, is_ai_generated, sent_at, created_at,
        updated_at)
    VALUES ('m' || r.n, 'v1', 'kunde@example.dk', 'info@rendetalje.dk',
        'Tilbud på rengøring', r.body, '[]', 'inbound', 'sent', false, now(), now(), now());
  END LOOP;
END $$"""


def _take_away(db: psycopg.Connection[Any], setting: str) -> None:
    step = SETTINGS.index(setting)
    if step >= 1:
        db.execute("DROP INDEX ix_message_search_pairs")
    if step >= 2:
        drop_pairs_triggers(db)
    if step >= 3:
        db.execute("DROP INDEX ix_email_messages_search")
    if step >= 4:
        db.execute("ALTER TABLE email_messages DROP COLUMN search_vector")


def microseconds_per_message(setting: str, texts: list[str]) -> float:
    schema = fresh_schema(f"bench_store_{uuid.uuid4().hex[:8]}")
    try:
        with psycopg.connect(PG_DSN, autocommit=True) as db:
            db.execute(f'SET search_path TO "{schema}", public')
            _take_away(db, setting)
            db.execute(
                "INSERT INTO conversations (id, channel, status, created_at, updated_at)"
                " VALUES ('v1', 'email', 'active', now(), now())"
            )
            db.execute("CREATE TEMPORARY TABLE bodies (n int, body text)")
            with db.cursor().copy("COPY bodies FROM STDIN") as copy:
                for n, body in enumerate(texts):
                    copy.write_row([n, body])
            started = time.perf_counter()
            db.execute(STORE_EACH)
            return (time.perf_counter() - started) / len(texts) * 1e6
    finally:
        drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    generated = bodies(random.Random(2), 3 * args.messages)
    texts = [" ".join(generated[n : n + 3]) for n in range(0, len(generated), 3)]
    runs: dict[str, list[float]] = {setting: [] for setting in SETTINGS}
    for run in range(args.repeat):
        for setting in SETTINGS if run % 2 == 0 else SETTINGS[::-1]:
            runs[setting].append(microseconds_per_message(setting, texts))
    cells = [f"{statistics.median(runs[setting]):.0f}" for setting in SETTINGS]
    pairs = zip(SETTINGS, cells, strict=True)
    print(" | ".join(f"{setting}: {cell} µs" for setting, cell in pairs))
    append_result(
        "Search objects: PostgreSQL's cost per stored message (bench/search_store_cost.py)",
        ["date", "machine", "messages", *(f"{s} µs" for s in SETTINGS)],
        [today(), machine(), f"{args.messages:,}, median of {args.repeat}", *cells],
    )


if __name__ == "__main__":
    main()

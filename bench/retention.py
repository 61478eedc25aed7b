"""Retention on PostgreSQL: how long ``crm status`` takes to sum the raw mail held, and
how fast ``crm retention run`` drops it, on a ledger of N staged messages.

    .venv/bin/python -m bench.retention [--messages 20000] [--size 4096]

Appends a row to bench/RESULTS.md. The chunk loop is the one ``worker.jobs.retention``
runs (500 rows per committed UPDATE, in id order).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

from sqlalchemy import update

from bench.common import PG_URL, append_result, drop_schema, fresh_schema, machine, median
from crm_core.db import make_engine, make_session_factory
from crm_core.inbox import StagedMessage, stage_messages
from crm_core.inbox.retention import drop_processed_raw, raw_mail_held
from crm_core.models import ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.statuses import IngestOutcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()
    schema = fresh_schema("bench_retention")
    engine = make_engine(PG_URL, schema=schema)
    sessions = make_session_factory(engine)
    try:
        # Incompressible bytes: PostgreSQL moves them out of line (TOAST) as with real mail.
        noise = random.Random(7)
        for start in range(0, args.messages, 1000):
            with sessions() as session:
                stage_messages(
                    session,
                    [
                        StagedMessage(
                            "info@rendetalje.dk", f"g{n}", noise.randbytes(args.size), "gmail"
                        )
                        for n in range(start, min(start + 1000, args.messages))
                    ],
                )
                session.commit()
        old = utcnow() - timedelta(days=100)
        with sessions() as session:
            session.execute(
                update(ReceivedMessage).values(
                    outcome=IngestOutcome.STORED, processed_at=old, staged_at=old
                )
            )
            session.commit()
        held_times = []
        for _ in range(3):
            with sessions() as session:
                started = time.perf_counter()
                held = raw_mail_held(session)
                held_times.append(time.perf_counter() - started)
        assert held.messages == args.messages
        started = time.perf_counter()
        dropped, after, now = 0, "", utcnow()
        while True:
            with sessions() as session:
                chunk = drop_processed_raw(session, 90, now, after)
                session.commit()
            if chunk.last_id is None:
                break
            dropped, after = dropped + chunk.rows, chunk.last_id
        run_seconds = time.perf_counter() - started
        assert dropped == args.messages
    finally:
        engine.dispose()
        drop_schema(schema)
    append_result(
        "Retention of raw mail, PostgreSQL (bench/retention.py)",
        ["date", "machine", "messages", "bytes each", "status sum (median of 3)", "run", "rows/s"],
        [
            utcnow().date().isoformat(),
            machine(),
            str(args.messages),
            str(args.size),
            f"{median(held_times) * 1000:.0f} ms",
            f"{run_seconds:.1f} s",
            f"{args.messages / run_seconds:,.0f}",
        ],
    )


if __name__ == "__main__":
    main()

"""Erasure of one person (``crm privacy erase``) in a CRM of N messages, on SQLite and
PostgreSQL: the whole transaction, and the two parts that grow with the database
rather than with the person: the search of raw mail not stored (skipped, bounces,
quarantine) for their addresses, and on SQLite the merge of the FTS5 index.

    .venv/bin/python -m bench.erasure [--messages 20000] [--customers 2000]
        [--unlinked 4000] [--size 4096]

Appends one row per database to bench/RESULTS.md. Each figure is the median of three
erasures of three different customers (about messages/customers messages each).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from bench.common import PG_URL, append_result, drop_schema, fresh_schema, machine, median
from crm_core.db import make_engine, make_session_factory
from crm_core.ids import new_id
from crm_core.models import Conversation, Customer, EmailMessage, ReceivedMessage
from crm_core.models.types import utcnow
from crm_core.privacy import erase_subject
from crm_core.privacy.erase import _unlinked_mentions
from crm_core.privacy.keys import address_hasher
from crm_core.statuses import Direction, IngestOutcome
from migrations import upgrade

MAILBOX = "info@rendetalje.dk"
WORDS = [
    "rengøring",
    "vinduer",
    "trappe",
    "kontor",
    "flytning",
    "tilbud",
    "pris",
    "fredag",
    "mandag",
    "nøgle",
    "have",
    "gulv",
    "køkken",
    "badeværelse",
    "vask",
    "støv",
    "hovedrengøring",
    "aftale",
    "tak",
    "hilsen",
    "venlig",
]


def _address(n: int) -> str:
    return f"kunde{n}@example.net"


def _fill(sessions: sessionmaker[Session], args: argparse.Namespace) -> None:
    rng = random.Random(7)
    now = utcnow()
    per_customer = max(1, args.messages // args.customers)
    with sessions() as session:
        customers = [
            {
                "id": new_id(),
                "name": f"Kunde {n}",
                "email": _address(n),
                "email_normalized": _address(n),
                "status": "active",
                "tags": [],
                "total_leads": 0,
                "total_bookings": 0,
                "total_revenue": 0,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(args.customers)
        ]
        session.execute(insert(Customer.__table__), customers)  # type: ignore[arg-type]
        session.commit()
        for n, customer in enumerate(customers):
            conversation_id = new_id()
            session.execute(
                insert(Conversation.__table__),  # type: ignore[arg-type]
                [
                    {
                        "id": conversation_id,
                        "customer_id": customer["id"],
                        "subject": "Rengøring",
                        "channel": "email",
                        "status": "active",
                        "mailbox": MAILBOX,
                        "gmail_thread_id": f"t{n}",
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )
            messages, ledger = [], []
            for m in range(per_customer):
                message_id = new_id()
                body = " ".join(rng.choice(WORDS) for _ in range(60))
                messages.append(
                    {
                        "id": message_id,
                        "conversation_id": conversation_id,
                        "mailbox": MAILBOX,
                        "gmail_message_id": f"g{n}-{m}",
                        "gmail_thread_id": f"t{n}",
                        "from_address": _address(n),
                        "to_address": MAILBOX,
                        "subject": f"Rengøring {n}",
                        "body": body,
                        "attachments": [],
                        "direction": Direction.INBOUND.value,
                        "status": "sent",
                        "is_ai_generated": False,
                        "sent_at": now - timedelta(minutes=m),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                raw = f"From: <{_address(n)}>\r\n\r\n{body}".encode()
                ledger.append(_ledger_row(f"g{n}-{m}", raw, IngestOutcome.STORED, message_id))
            session.execute(insert(EmailMessage.__table__), messages)  # type: ignore[arg-type]
            session.execute(insert(ReceivedMessage.__table__), ledger)  # type: ignore[arg-type]
            if n % 200 == 199:
                session.commit()
        # Mail not stored (newsletters, spam) whose raw bytes are still held.
        for start in range(0, args.unlinked, 500):
            session.execute(
                insert(ReceivedMessage.__table__),  # type: ignore[arg-type]
                [
                    _ledger_row(f"s{k}", rng.randbytes(args.size), IngestOutcome.SKIPPED, None)
                    for k in range(start, min(start + 500, args.unlinked))
                ],
            )
        session.commit()


def _ledger_row(
    gmail_id: str, raw: bytes, outcome: IngestOutcome, message_id: str | None
) -> dict[str, object]:
    now = utcnow()
    return {
        "id": new_id(),
        "mailbox": MAILBOX,
        "gmail_message_id": gmail_id,
        "label_ids": ["INBOX"],
        "raw": raw,
        "size": len(raw),
        "source": "gmail",
        "outcome": outcome.value,
        "reason": "noise:list" if message_id is None else None,
        "attempts": 1,
        "email_message_id": message_id,
        "staged_at": now,
        "processed_at": now,
    }


def _timed(sessions: sessionmaker[Session], work: Callable[[Session], object]) -> float:
    """Seconds of ``work`` in a transaction that is then rolled back."""
    with sessions() as session:
        started = time.perf_counter()
        work(session)
        seconds = time.perf_counter() - started
        session.rollback()
    return seconds


def _scan_for(address: str) -> Callable[[Session], object]:
    return lambda session: _unlinked_mentions(session, [address])


def _measure(kind: str, sessions: sessionmaker[Session], args: argparse.Namespace) -> list[str]:
    _fill(sessions, args)
    hasher = address_hasher(b"k" * 32)
    victims = [_address(n) for n in (3, args.customers // 2, args.customers - 5)]
    scans = [_timed(sessions, _scan_for(address)) for address in victims]
    merges: list[float] = []
    if kind == "sqlite":
        optimize = "INSERT INTO message_search (message_search) VALUES ('optimize')"
        merges = [_timed(sessions, lambda s: s.execute(text(optimize))) for _ in range(3)]
    erasures = []
    for address in victims:
        with sessions() as session:
            started = time.perf_counter()
            result = erase_subject(session, address, hasher)
            session.commit()
            erasures.append(time.perf_counter() - started)
        assert result.counts["messages"] == args.messages // args.customers
    return [
        utcnow().date().isoformat(),
        machine(),
        kind,
        str(args.messages),
        f"{args.unlinked} × {args.size // 1024} KiB",
        f"{median(erasures):.2f} s",
        f"{median(scans):.2f} s",
        f"{median(merges):.2f} s" if merges else "none (generated column)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--unlinked", type=int, default=4_000)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        rows.append(_measure("sqlite", make_session_factory(engine), args))
        engine.dispose()
    schema = fresh_schema("bench_erasure")
    engine = make_engine(PG_URL, schema=schema)
    try:
        rows.append(_measure("postgresql", make_session_factory(engine), args))
    finally:
        engine.dispose()
        drop_schema(schema)
    for row in rows:
        append_result(
            "Erasure of one person (bench/erasure.py)",
            [
                "date",
                "machine",
                "database",
                "messages",
                "raw mail not stored",
                "erasure (median of 3)",
                "raw-mail search alone",
                "FTS5 merge alone",
            ],
            row,
        )


if __name__ == "__main__":
    main()

"""find_or_create_customer under real concurrency: threads in several processes."""

from __future__ import annotations

import multiprocessing
import random
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from crm_core import services
from crm_core.db import make_engine, make_session_factory, transaction
from crm_core.models import Customer
from tests.conftest import Database

EMAILS = [f"Customer.{n}@Example.dk" for n in range(100)]
PROCESSES = 2
THREADS = 8


def _variant(email: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in email)


def _hammer(url: str, schema: str | None, seed: int) -> tuple[dict[str, set[str]], list[str]]:
    """One process: THREADS threads each find-or-create every email in random order."""
    engine = make_engine(url, schema=schema)
    sessions = make_session_factory(engine)
    start = threading.Barrier(THREADS)
    seen: dict[str, set[str]] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def run(thread: int) -> None:
        rng = random.Random(seed * 100 + thread)
        order = EMAILS[:]
        rng.shuffle(order)
        start.wait()
        for email in order:
            try:
                with transaction(sessions) as session:
                    customer_id = services.find_or_create_customer(
                        session, _variant(email, rng), "Name"
                    ).id
            except Exception as exc:  # collected and reported by the test
                with lock:
                    errors.append(repr(exc))
                continue
            with lock:
                seen.setdefault(email.lower(), set()).add(customer_id)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, range(THREADS)))
    engine.dispose()
    return seen, errors


def test_one_customer_per_email_under_concurrency(database: Database) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        results = pool.starmap(
            _hammer, [(database.url, database.schema, seed) for seed in range(PROCESSES)]
        )

    errors = [error for _, process_errors in results for error in process_errors]
    assert errors == []
    ids_per_email: dict[str, set[str]] = {}
    for seen, _ in results:
        for email, ids in seen.items():
            ids_per_email.setdefault(email, set()).update(ids)
    assert len(ids_per_email) == 100
    assert all(len(ids) == 1 for ids in ids_per_email.values())

    with database.sessions() as session:
        count = session.execute(select(func.count()).select_from(Customer)).scalar_one()
        stored = set(session.execute(select(Customer.email_normalized)).scalars())
    assert count == 100
    assert stored == {email.lower() for email in EMAILS}

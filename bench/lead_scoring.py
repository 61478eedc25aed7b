"""How well lead scores rank, and what scoring costs.

    python -m bench.lead_scoring quality [--leads 6000] [--seed 1]
    python -m bench.lead_scoring cost sqlite|postgresql [--leads 20000]
    python -m bench.lead_scoring ingest [--repeat 3]

quality: a generated history of 18 months with a known signal: the source, the
postcode area, the time to our first reply and the customer's earlier bookings change
the chance that a lead converts; the weekday, the hour, the task and the size do not.
The model (crm_core.scoring, smoothed naive Bayes) is trained on the first 12 months
and ranks the leads of the last 6; the figure is the AUC (the chance that a converted
lead scores above one that did not). Against: Odoo-style frequency scoring (the mean
over the features of each value's raw conversion frequency in the training months,
the overall rate for a value not seen), random scores, and the true probabilities the
history was drawn from (the best any model can do). Twice: with the full 12 months, and
with only the first 150 leads (a young company), where smoothing matters.

cost: the same kind of history written to a fresh database migrated to head; then the
full rebuild (train on every decided lead, rescore every lead: what the rescore job and
`crm lead rescore` do) and the scoring of one new lead from the stored model (what lead
creation does), medians of 5.

ingest: what scoring at creation costs ingestion: the demo's history mailbox (336
messages, 168 lead emails) imported in-process (inline broker) into a fresh SQLite
database, with the scoring of new leads as shipped and with it switched off,
interleaved, medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crm_core.scoring import LeadFacts

from bench.common import PG_URL, append_result, drop_schema, fresh_schema, machine, today

SOURCES = {"rengoring.nu": 0.8, "leadpoint": -0.4, "website": 0.3, "facebook": -1.0}
AREAS = {
    f"{prefix}00 By": weight
    for prefix, weight in zip(
        ("10", "20", "21", "26", "30", "40", "50", "60", "70", "80", "90", "94"),
        (0.9, 0.6, 0.4, -0.3, -0.8, -0.5, 0.0, -0.2, 0.2, 0.7, -0.9, -0.4),
        strict=True,
    )
}
TASKS = ("flytterengøring", "hovedrengøring", "fast rengøring", "vinduespudsning", "erhverv")
START = datetime(2024, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=18 * 30 + 45)  # every lead of the history is decided


@dataclass(frozen=True, slots=True)
class Generated:
    source: str
    address: str
    task: str
    size: int
    received_at: datetime
    reply_hours: float
    earlier_bookings: int
    probability: float
    converted: bool


def generate(count: int, seed: int) -> list[Generated]:
    rng = random.Random(seed)
    leads = []
    for index in range(count):
        source = rng.choice(list(SOURCES))
        area = rng.choice(list(AREAS))
        received = START + timedelta(days=18 * 30 * index / count, hours=rng.uniform(0, 24))
        reply_hours = rng.choice((0.5, 2.0, 10.0, 40.0))
        earlier = rng.choices((0, 1, 3), weights=(80, 12, 8))[0]
        logit = (
            -1.3
            + SOURCES[source]
            + AREAS[area]
            + {0.5: 0.6, 2.0: 0.3, 10.0: -0.2, 40.0: -0.8}[reply_hours]
            + {0: 0.0, 1: 0.7, 3: 1.2}[earlier]
        )
        probability = 1 / (1 + math.exp(-logit))
        leads.append(
            Generated(
                source=source,
                address=f"Gade {index % 90 + 1}, {area}",
                task=rng.choice(TASKS),
                size=rng.randint(30, 250),
                received_at=received,
                reply_hours=reply_hours,
                earlier_bookings=earlier,
                probability=probability,
                converted=rng.random() < probability,
            )
        )
    return leads


def facts_of(lead: Generated, index: int) -> LeadFacts:
    from crm_core.scoring import LeadFacts

    return LeadFacts(
        lead_id=str(index),
        source=lead.source,
        task_type=lead.task,
        size_m2=lead.size,
        address=lead.address,
        received_at=lead.received_at,
        first_reply_at=lead.received_at + timedelta(hours=lead.reply_hours),
        earlier_bookings=lead.earlier_bookings,
        earlier_revenue=Decimal(lead.earlier_bookings * 3000),
        converted=lead.converted,
    )


def auc(scores: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mann–Whitney: the chance a converted lead outranks one that did not (ties half)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    position = 0
    while position < len(order):
        end = position
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[position]]:
            end += 1
        for k in range(position, end + 1):
            ranks[order[k]] = (position + end) / 2 + 1
        position = end + 1
    positives = sum(outcomes)
    negatives = len(outcomes) - positives
    rank_sum = sum(rank for rank, won in zip(ranks, outcomes, strict=True) if won)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def frequency_scorer(train: list[tuple[dict[str, str], bool]]) -> Callable[[dict[str, str]], float]:
    """Odoo-style: per feature value, the raw share of training leads that converted."""
    seen: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for features, won in train:
        for key in features.items():
            seen[key][0] += 1
            seen[key][1] += int(won)
    overall = sum(won for _, won in train) / len(train)

    def score(features: dict[str, str]) -> float:
        rates = [
            seen[key][1] / seen[key][0] if key in seen else overall for key in features.items()
        ]
        return sum(rates) / len(rates)

    return score


def quality(count: int, seed: int) -> None:
    from crm_core.scoring import ScoringModel, features_of

    history = generate(count, seed)
    cut = START + timedelta(days=12 * 30)
    examples = [(features_of(facts_of(lead, i), NOW), lead) for i, lead in enumerate(history)]
    train_all = [(f, lead.converted) for f, lead in examples if lead.received_at < cut]
    test = [(f, lead) for f, lead in examples if lead.received_at >= cut]
    outcomes = [lead.converted for _, lead in test]
    rng = random.Random(seed + 1)
    header = [
        "date", "machine", "leads (train/test)", "converted", "naive Bayes AUC",
        "frequency AUC", "random AUC", "true probability AUC",
    ]  # fmt: skip
    for label, train in (("all", train_all), ("first 150", train_all[:150])):
        model = ScoringModel.train(train)
        frequency = frequency_scorer(train)
        figures = [
            auc([model.score(f).probability for f, _ in test], outcomes),
            auc([frequency(f) for f, _ in test], outcomes),
            auc([rng.random() for _ in test], outcomes),
            auc([lead.probability for _, lead in test], outcomes),
        ]
        row = [
            today(),
            machine(),
            f"{len(train)}/{len(test)} ({label}, seed {seed})",
            f"{sum(outcomes) / len(outcomes):.0%}",
            *(f"{figure:.3f}" for figure in figures),
        ]
        print(" | ".join(row))
        append_result("Lead scoring quality (bench/lead_scoring.py quality)", header, row)


def cost(kind: str, count: int) -> None:
    from sqlalchemy import insert

    from crm_core.db import make_engine, make_session_factory
    from crm_core.ids import new_id
    from crm_core.models import Booking, Lead
    from crm_core.scoring import rebuild_scores, score_leads
    from migrations import upgrade

    schema = None
    if kind == "postgresql":
        schema = fresh_schema("bench_scoring")
        url = PG_URL
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'scoring.db'}"
    upgrade(url, schema=schema)
    engine = make_engine(url, schema=schema)
    sessions = make_session_factory(engine)
    try:
        history = generate(count, 3)
        leads: list[dict[str, Any]] = []
        bookings: list[dict[str, Any]] = []
        for lead in history:
            lead_id = new_id()
            leads.append({
                "id": lead_id, "source": lead.source, "address": lead.address,
                "task_type": lead.task, "size_m2": lead.size, "status": "new",
                "created_at": lead.received_at, "updated_at": lead.received_at,
            })  # fmt: skip
            if lead.converted:
                bookings.append({
                    "id": new_id(), "lead_id": lead_id, "status": "scheduled",
                    "scheduled_at": lead.received_at + timedelta(days=7),
                    "created_at": lead.received_at, "updated_at": lead.received_at,
                })  # fmt: skip
        with sessions() as session:
            for start in range(0, len(leads), 2000):
                session.execute(insert(Lead), leads[start : start + 2000])
            for start in range(0, len(bookings), 2000):
                session.execute(insert(Booking), bookings[start : start + 2000])
            session.commit()
        rebuilds, singles = [], []
        for _ in range(5):
            with sessions() as session:
                started = time.perf_counter()
                rebuild_scores(session, NOW)
                session.commit()
                rebuilds.append(time.perf_counter() - started)
            with sessions() as session:
                started = time.perf_counter()
                score_leads(session, [leads[-1]["id"]], NOW)
                session.commit()
                singles.append(time.perf_counter() - started)
        rebuild, single = statistics.median(rebuilds), statistics.median(singles)
        header = [
            "date", "machine", "database", "leads", "rebuild and rescore all (s)",
            "score one new lead (ms)", "ratio",
        ]  # fmt: skip
        row = [
            today(), machine(), kind, f"{count:,}", f"{rebuild:.2f}",
            f"{single * 1000:.1f}", f"{rebuild / single:,.0f}×",
        ]  # fmt: skip
        print(" | ".join(row))
        append_result("Lead scoring cost (bench/lead_scoring.py cost)", header, row)
    finally:
        engine.dispose()
        if schema:
            drop_schema(schema)


def _import_seconds(score_new_leads: bool) -> float:
    from unittest import mock

    from worker.config import BrokerSettings, DatabaseSettings, Settings
    from worker.importers.run import import_takeout
    from worker.jobs.broker import install_broker
    from worker.runtime import use_settings
    from worker.samples.build_history import HISTORY_MBOX

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'ingest.db'}"
    from migrations import upgrade

    upgrade(url)
    settings = Settings(database=DatabaseSettings(url=url), broker=BrokerSettings(url="inline"))
    runtime = use_settings(settings)
    install_broker(settings)
    scorers = (
        "crm_core.leads.service",
        "crm_core.leads.bulk",
        "crm_core.leads.progress",
        "crm_core.customers.service",
    )
    off = [mock.patch(f"{module}.score_leads", lambda *a, **k: None) for module in scorers]
    patches = [] if score_new_leads else off
    for patch in patches:
        patch.start()
    try:
        started = time.perf_counter()
        import_takeout(runtime, HISTORY_MBOX, settings.company.mailbox)
        return time.perf_counter() - started
    finally:
        for patch in patches:
            patch.stop()


def ingest(repeat: int) -> None:
    on: list[float] = []
    off: list[float] = []
    for _ in range(repeat):
        off.append(_import_seconds(False))
        on.append(_import_seconds(True))
    with_scoring, without = statistics.median(on), statistics.median(off)
    header = [
        "date", "machine", "messages", "import with scoring (s)", "without (s)", "ratio",
    ]  # fmt: skip
    row = [
        today(), machine(), f"336 (median of {repeat})", f"{with_scoring:.2f}",
        f"{without:.2f}", f"{with_scoring / without:.2f}",
    ]  # fmt: skip
    print(" | ".join(row))
    append_result("Lead scoring at ingestion (bench/lead_scoring.py ingest)", header, row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    q = commands.add_parser("quality")
    q.add_argument("--leads", type=int, default=6000)
    q.add_argument("--seed", type=int, default=1)
    c = commands.add_parser("cost")
    c.add_argument("database", choices=["sqlite", "postgresql"])
    c.add_argument("--leads", type=int, default=20000)
    i = commands.add_parser("ingest")
    i.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.command == "quality":
        quality(args.leads, args.seed)
    elif args.command == "cost":
        cost(args.database, args.leads)
    else:
        ingest(args.repeat)


if __name__ == "__main__":
    main()

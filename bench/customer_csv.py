"""Customer export, import and bulk tag change on PostgreSQL, as a user runs them.

    python -m bench.customer_csv [--customers 1000000] [--import-rows 100000] [--runs 3]
        [--parts export,import]

- export: ``crm customer export -o FILE`` (CSV), run in this process, over a tenth of
  ``--customers`` customers and then over all of them, built with INSERT … SELECT over
  generate_series (tags, figures, last contact set): rows per second, and the peak
  memory of the process after each (flat memory: the second peak is about the first).
- import: ``crm customer import`` of a generated ``--import-rows`` file in Danish Excel
  form (``;``, UTF-8 with BOM) into an empty schema, then the same file again (every
  row unchanged): rows per second.
- bulk: ``add_tags`` / ``remove_tags`` over the imported customers (one UPDATE each),
  timed in-process around the statement and its commit.

``--endpoint`` subscribes one webhook endpoint to every event type first (nothing
listens at its address: the events are written, none is delivered in the time), and
``--label`` names the code measured in the "what" column (for before/after runs).

Medians of ``--runs`` runs; a row per measurement in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid
from pathlib import Path

import psycopg
from typer.testing import CliRunner

from bench.common import (
    OUT,
    PG_DSN,
    PG_URL,
    append_result,
    drop_schema,
    fresh_schema,
    machine,
    median,
    today,
)
from crm_core.customers.bulk_changes import add_tags, remove_tags
from crm_core.customers.filters import CustomerFilter
from crm_core.db import make_engine, make_session_factory
from worker.cli.main import app

TITLE = "Customer export, import and bulk tags (bench/customer_csv.py)"
HEADER = ["date", "machine", "what", "rows", "median seconds", "rows/s", "peak RSS MiB"]


def build_customers(schema: str, count: int) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as db:
        db.execute(f'SET search_path TO "{schema}"')
        db.execute(
            f"""
            INSERT INTO customers (id, name, email, email_normalized, phone, address,
                company_name, notes, status, tags, total_leads, total_bookings,
                total_revenue, last_contact_at, created_at, updated_at)
            SELECT 'c' || g, 'Kunde ' || g, 'Kunde.' || g || '@Example.dk',
                'kunde.' || g || '@example.dk', '+45' || (20000000 + g % 79999999)::text,
                'Vej ' || (g % 200) || ', 8000 Aarhus', CASE WHEN g % 3 = 0 THEN 'Firma ApS' END,
                CASE WHEN g % 5 = 0 THEN 'Ring "efter" kl. 16; tak' END, 'active',
                CASE WHEN g % 2 = 0 THEN ARRAY['vip', 'erhverv'] ELSE ARRAY['privat'] END,
                g % 4, g % 3, (g % 1000) * 12.5, now() - (g % 365) * interval '1 day',
                now() - g * interval '1 second', now()
            FROM generate_series(1, {count}) AS g
            """
        )
        db.execute("ANALYZE customers")


def crm(schema: str, *args: str) -> tuple[float, float]:
    """Run a ``crm`` command in this process (no start-up in the time, as a long-lived
    shell would not pay it either): (seconds, the process's peak RSS in MiB so far)."""
    env = {"CRM_DATABASE_URL": PG_URL, "CRM_DATABASE_PG_SCHEMA": schema}
    started = time.perf_counter()
    result = CliRunner().invoke(app, list(args), env=env)
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"crm {' '.join(args)} failed: {result.output}")
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_file(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("Navn;E-mail;Telefon;Adresse;Firma;Noter;Tags\r\n")
        for n in range(rows):
            out.write(
                f"Kunde Ny {n};ny.{n}@example.dk;{20000000 + n};Gade {n % 99}, 2100 København Ø;"
                f'{"Ny ApS" if n % 3 == 0 else ""};"Siger ""hej""";vip, ny\r\n'
            )
    return path


LABEL = ""


def record(what: str, rows: int, seconds: list[float], peak: float | None = None) -> None:
    what = f"{LABEL}{what}"
    middle = median(seconds)
    row = [today(), machine(), what, f"{rows:,}", f"{middle:.2f}", f"{rows / middle:,.0f}",
           f"{peak:.0f}" if peak is not None else "-"]  # fmt: skip
    append_result(TITLE, HEADER, row)
    print(" | ".join(row), flush=True)
    print("  runs (s): " + ", ".join(f"{s:.2f}" for s in seconds), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parts", default="export,import", help="export and/or import (+bulk)")
    parser.add_argument("--endpoint", action="store_true", help="one endpoint subscribed to *")
    parser.add_argument("--label", default="", help="prefix of the 'what' column")
    args = parser.parse_args()
    global LABEL
    LABEL = (f"{args.label}: " if args.label else "") + ("endpoint *, " if args.endpoint else "")
    parts = set(args.parts.split(","))
    OUT.mkdir(exist_ok=True)
    out_file = OUT / "customers.csv"

    small, large = f"bench_csv_{uuid.uuid4().hex[:8]}", f"bench_csv_{uuid.uuid4().hex[:8]}"
    try:
        sizes = (
            ((small, args.customers // 10), (large, args.customers)) if "export" in parts else ()
        )
        for schema, count in sizes:
            fresh_schema(schema)
            started = time.perf_counter()
            build_customers(schema, count)
            print(f"built {count:,} customers in {time.perf_counter() - started:.0f} s", flush=True)
            runs = [
                crm(schema, "customer", "export", "-o", str(out_file)) for _ in range(args.runs)
            ]
            record("export CSV", count, [s for s, _ in runs], max(p for _, p in runs))
            drop_schema(schema)

        if "import" not in parts:
            return
        schema = small
        fresh_schema(schema)
        if args.endpoint:
            crm(schema, "webhook", "add", "https://hooks.example.com/crm", "--events", "*")
        source = import_file(OUT / "import.csv", args.import_rows)
        first, peak = crm(schema, "customer", "import", str(source))
        record("import (all created)", args.import_rows, [first], peak)
        again = [crm(schema, "customer", "import", str(source)) for _ in range(args.runs)]
        record(
            "import again (all unchanged)",
            args.import_rows,
            [s for s, _ in again],
            max(p for _, p in again),
        )

        engine = make_engine(PG_URL, schema=schema)
        sessions = make_session_factory(engine)
        timings: dict[str, list[float]] = {"add": [], "remove": []}
        for _ in range(args.runs):
            for name, change in (("add", add_tags), ("remove", remove_tags)):
                with sessions() as session:
                    started = time.perf_counter()
                    changed = change(session, CustomerFilter(), ["kampagne"])
                    session.commit()
                    timings[name].append(time.perf_counter() - started)
                assert changed == {"kampagne": args.import_rows}, changed
        engine.dispose()
        record("bulk tag add (one UPDATE)", args.import_rows, timings["add"])
        record("bulk tag remove (one UPDATE)", args.import_rows, timings["remove"])
    finally:
        drop_schema(small)
        drop_schema(large)
        out_file.unlink(missing_ok=True)
        (OUT / "import.csv").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

"""Peak memory of syncing, ingesting and importing a mailbox of photo-laden mail.

    python -m bench.memory [--messages 60]

Two in three messages carry a photo of 2 to 6 MB (a customer showing the flat to be
cleaned); the rest are short text mails. Each step runs as the `crm` command a user
would run, in its own process, and the table gets that process's peak resident set
size (VmHWM):
- `crm sync` against the local Gmail server, jobs to a Redis queue no worker reads
  (fetching and staging alone): with the default gmail.batch_max_bytes, and with an
  unbounded one, where batches grow to fifty messages whatever their size; and of one
  message with a 25 MB photo, the most a single message costs under the default
  limits.max_message_bytes;
- `crm ingest resume` on the staged messages with the inline broker: one ingest job
  at a time, as one worker thread runs them;
- `crm import mbox` of the same mail as a Takeout export, inline, into SQLite.
A sync of as many short text mails gives the floor: what the process needs anyway.
Results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from bench.common import (
    OUT,
    PG_URL,
    REDIS_URL,
    append_result,
    clear_namespace,
    drop_schema,
    fresh_schema,
    machine,
    today,
    write_token_file,
)
from tests.gmail_fake import FakeGmailServer

MAILBOX = "info@rendetalje.dk"
MB = 1024 * 1024
CRM = [sys.executable, "-m", "worker.cli.main"]
UNBOUNDED = 1 << 40
GMAIL = "https://gmail.googleapis.com"  # not called: ingesting needs no Gmail


def mail(n: int, photo: bytes = b"") -> bytes:
    """A customer's mail, with ``photo`` attached when given."""
    message = EmailMessage()
    message["From"] = f"Kunde {n} <kunde{n}@example.net>"
    message["To"] = f"Rendetalje <{MAILBOX}>"
    message["Subject"] = f"Billeder af lejligheden ({n})" if photo else f"Rengøring ({n})"
    message["Message-ID"] = f"<bench-memory-{n}@example.net>"
    when = datetime(2025, 9, 1, 8, 0, tzinfo=UTC) + timedelta(hours=n)
    message["Date"] = format_datetime(when)
    message.set_content("Hej! Her er billederne, så I kan se hvad der skal gøres. Mvh")
    if photo:
        message.add_attachment(photo, maintype="image", subtype="jpeg", filename=f"stue-{n}.jpg")
    return message.as_bytes()


def mailbox(messages: int, photos: bool) -> list[bytes]:
    """Two in three with a photo of 2 to 6 MB when ``photos``; else short text mails."""
    rng = random.Random(7)
    return [
        mail(n, rng.randbytes(rng.randint(2 * MB, 6 * MB)) if photos and n % 3 else b"")
        for n in range(messages)
    ]


def high_water_mb(pid: int) -> int | None:
    """The process's peak resident set size so far (VmHWM), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return None


def run(args: list[str], config: Path | None, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `crm args`; its peak RSS in MB and its output.

    The peak is VmHWM, read while the process runs: its rusage would not do, as Linux
    counts the parent's resident size at the fork into the child's ru_maxrss, and this
    process holds the whole mailbox.
    """
    prefix = [*CRM, "--config", str(config)] if config else CRM
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [*prefix, *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, high_water_mb(process.pid) or 0)
            time.sleep(0.01)
        output.seek(0)
        text = output.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"crm {' '.join(args)} failed:\n{text[-2000:]}")
    return peak, text


def write_config(
    path: Path,
    api_endpoint: str,
    tokens: Path,
    schema: str,
    namespace: str,
    budget: int,
    broker: str = REDIS_URL,
) -> Path:
    """With Redis, jobs go to a queue no worker reads: the sync alone is measured."""
    path.write_text(
        f'[database]\nurl = "{PG_URL}"\npg_schema = "{schema}"\n\n'
        f'[broker]\nurl = "{broker}"\nnamespace = "{namespace}"\n\n'
        f'[gmail]\napi_endpoint = "{api_endpoint}"\ntoken_dir = "{tokens}"\n'
        f"quota_units_per_second = 100000\nbatch_max_bytes = {budget}\n\n"
        f'[[mailboxes]]\naddress = "{MAILBOX}"\n'
    )
    return path


def takeout(path: Path, raws: list[bytes]) -> Path:
    with path.open("wb") as handle:
        for n, raw in enumerate(raws):
            gmail_id = 1_790_000_000_000_000_000 + n
            handle.write(f"From {gmail_id}@xxx Mon Sep 01 08:00:00 +0000 2025\n".encode())
            handle.write(f"X-GM-THRID: {gmail_id}\nX-Gmail-Labels: Inbox\n".encode())
            handle.write(raw.replace(b"\r\n", b"\n").rstrip(b"\n") + b"\n\n")
    return path


Row = tuple[str, int, float, int, int]  # step, messages, raw MB, largest batch, peak MB


def sync_step(
    work: Path, label: str, raws: list[bytes], budget: int, namespace: str
) -> tuple[Row, str]:
    """`crm sync` of ``raws`` from a fresh local Gmail into a fresh schema."""
    with FakeGmailServer(client_id=None, client_secret=None) as server:
        tokens = work / "tokens"
        write_token_file(tokens, MAILBOX, server.token_uri, server.add_user(MAILBOX))
        for raw in raws:
            server.deliver(MAILBOX, raw)
        schema = fresh_schema(f"bench_memory_{uuid.uuid4().hex[:8]}")
        config = write_config(work / "crm.toml", server.url, tokens, schema, namespace, budget)
        print(f"{label} …", flush=True)
        peak, output = run(["sync", "--json"], config)
        (report,) = json.loads(output[output.index("[") :])
        assert report["status"] == "ok" and report["fetched"] == len(raws), report
        largest = max(len(batch) for batch in server.served_batches())
    return (label, len(raws), sum(map(len, raws)) / MB, largest, peak), schema


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60)
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    work = OUT / f"memory-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    photos = mailbox(args.messages, photos=True)
    texts = mailbox(args.messages, photos=False)
    big = mail(args.messages, random.Random(3).randbytes(25 * MB))
    raw_mb = sum(map(len, photos)) / MB
    rows: list[Row] = []
    schemas: list[str] = []
    namespace = f"crm-bench-{uuid.uuid4().hex[:8]}"
    try:
        for label, raws, budget in (
            ("sync, short text mails (floor)", texts, 8 * MB),
            ("sync, one message with a 25 MB photo", [big], 8 * MB),
            ("sync, batch_max_bytes unbounded", photos, UNBOUNDED),
            ("sync, batch_max_bytes 8 MiB (default)", photos, 8 * MB),
        ):
            row, schema = sync_step(work, label, raws, budget, namespace)
            rows.append(row)
            schemas.append(schema)
        # The last schema holds the photo mailbox, staged and pending: ingest it inline.
        inline = write_config(
            work / "inline.toml", GMAIL, work, schemas[-1], namespace, 8 * MB, broker="inline"
        )
        print("ingest …", flush=True)
        peak, _ = run(["ingest", "resume", "--older-than", "0"], inline)
        rows.append(("ingest resume, inline (one job at a time)", len(photos), raw_mb, 0, peak))
        print("import …", flush=True)
        export = takeout(work / "photos.mbox", photos)
        database = work / "import.db"
        env = {"CRM_DATABASE_URL": f"sqlite:///{database}", "CRM_BROKER_URL": "inline"}
        run(["db", "upgrade"], None, env)
        peak, _ = run(["import", "mbox", str(export), "--mailbox", MAILBOX], None, env)
        rows.append(("import mbox, inline, SQLite", len(photos), raw_mb, 0, peak))
    finally:
        for schema in schemas:
            drop_schema(schema)
        clear_namespace(namespace)
    for label, messages, megabytes, largest, peak in rows:
        batch = str(largest) if largest else "–"
        print(f"{label}: {megabytes:.1f} MB of mail, largest batch {batch}, peak {peak} MB")
        append_result(
            "Peak memory with photo-laden mail (bench/memory.py)",
            ["date", "machine", "step", "messages", "raw MB", "largest batch", "peak RSS MB"],
            [today(), machine(), label, str(messages), f"{megabytes:.1f}", batch, str(peak)],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory of syncing, ingesting and importing a mailbox of photo-laden mail.

    python -m bench.memory [--messages 60]

Two in three messages carry a photo of 2 to 6 MB (a customer showing the flat to be
cleaned); the rest are short text mails. Each step runs as the `crm` command a user
would run, in its own process, and the table gets that process's peak resident set
size (VmHWM):
- `crm sync` against the local Gmail server, jobs to a Redis queue no worker reads
  (fetching and staging alone): with the default gmail.batch_max_bytes, and with an
  unbounded one, where batches grow to fifty messages whatever their size;
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
)
from tests.gmail_fake import FakeGmailServer

MAILBOX = "info@rendetalje.dk"
MB = 1024 * 1024
CRM = [sys.executable, "-m", "worker.cli.main"]
UNBOUNDED = 1 << 40


def mail(n: int, rng: random.Random, photo: bool) -> bytes:
    message = EmailMessage()
    message["From"] = f"Kunde {n} <kunde{n}@example.net>"
    message["To"] = f"Rendetalje <{MAILBOX}>"
    message["Subject"] = f"Billeder af lejligheden ({n})" if photo else f"Rengøring ({n})"
    message["Message-ID"] = f"<bench-memory-{n}@example.net>"
    when = datetime(2025, 9, 1, 8, 0, tzinfo=UTC) + timedelta(hours=n)
    message["Date"] = format_datetime(when)
    message.set_content("Hej! Her er billederne, så I kan se hvad der skal gøres. Mvh")
    if photo:
        size = rng.randint(2 * MB, 6 * MB)
        message.add_attachment(
            rng.randbytes(size), maintype="image", subtype="jpeg", filename=f"stue-{n}.jpg"
        )
    return message.as_bytes()


def mailbox(messages: int, photos: bool) -> list[bytes]:
    rng = random.Random(7)
    return [mail(n, rng, photos and n % 3 != 0) for n in range(messages)]


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
    server: FakeGmailServer,
    tokens: Path,
    schema: str,
    broker: str,
    namespace: str,
    budget: int,
) -> Path:
    path.write_text(
        f'[database]\nurl = "{PG_URL}"\npg_schema = "{schema}"\n\n'
        f'[broker]\nurl = "{broker}"\nnamespace = "{namespace}"\n\n'
        f'[gmail]\napi_endpoint = "{server.url}"\ntoken_dir = "{tokens}"\n'
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60)
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    work = OUT / f"memory-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    photos = mailbox(args.messages, photos=True)
    texts = mailbox(args.messages, photos=False)
    raw_mb = sum(len(r) for r in photos) / MB
    rows: list[tuple[str, float, int, int]] = []  # what, raw MB, largest batch, peak MB
    schemas: list[str] = []
    namespace = f"crm-bench-{uuid.uuid4().hex[:8]}"
    try:
        for label, raws, budget, broker in (
            ("sync, short text mails (floor)", texts, 8 * MB, REDIS_URL),
            ("sync, batch_max_bytes 8 MiB (default)", photos, 8 * MB, REDIS_URL),
            ("sync, batch_max_bytes unbounded", photos, UNBOUNDED, REDIS_URL),
        ):
            with FakeGmailServer(client_id=None, client_secret=None) as server:
                refresh = server.add_user(MAILBOX)
                tokens = work / "tokens"
                tokens.mkdir(exist_ok=True)
                token_file = tokens / f"{MAILBOX}.json"
                token_file.write_text(
                    json.dumps(
                        {
                            "type": "authorized_user",
                            "client_id": "bench",
                            "client_secret": "bench",
                            "refresh_token": refresh,
                            "token_uri": server.token_uri,
                        }
                    )
                )
                token_file.chmod(0o600)
                for raw in raws:
                    server.deliver(MAILBOX, raw)
                schema = fresh_schema(f"bench_memory_{uuid.uuid4().hex[:8]}")
                schemas.append(schema)
                config = write_config(
                    work / "crm.toml", server, tokens, schema, broker, namespace, budget
                )
                print(f"{label} …", flush=True)
                peak, output = run(["sync", "--json"], config)
                (report,) = json.loads(output[output.index("[") :])
                assert report["status"] == "ok" and report["fetched"] == len(raws), report
                largest = max(len(batch) for batch in server.served_batches())
                rows.append((label, sum(len(r) for r in raws) / MB, largest, peak))
        # The last schema holds the photo mailbox, staged and pending: ingest it inline.
        inline = write_config(
            work / "inline.toml", server, tokens, schemas[-1], "inline", namespace, 8 * MB
        )
        print("ingest …", flush=True)
        peak, _ = run(["ingest", "resume", "--older-than", "0"], inline)
        rows.append(("ingest resume, inline (one job at a time)", raw_mb, 0, peak))
        print("import …", flush=True)
        export = takeout(work / "photos.mbox", photos)
        database = work / "import.db"
        env = {"CRM_DATABASE_URL": f"sqlite:///{database}", "CRM_BROKER_URL": "inline"}
        run(["db", "upgrade"], None, env)
        peak, _ = run(["import", "mbox", str(export), "--mailbox", MAILBOX], None, env)
        rows.append(("import mbox, inline, SQLite", raw_mb, 0, peak))
    finally:
        for schema in schemas:
            drop_schema(schema)
        clear_namespace(namespace)
    for label, megabytes, largest, peak in rows:
        batch = str(largest) if largest else "–"
        print(f"{label}: {megabytes:.0f} MB of mail, largest batch {batch}, peak {peak} MB")
        append_result(
            "Peak memory with photo-laden mail (bench/memory.py)",
            ["date", "machine", "step", "messages", "raw MB", "largest batch", "peak RSS MB"],
            [today(), machine(), label, str(args.messages), f"{megabytes:.0f}", batch, str(peak)],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

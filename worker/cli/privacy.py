"""``crm privacy export EMAIL|ID --out FILE.zip [--with-raw]``: a person's data;
``crm privacy erase EMAIL|ID --yes [--dry-run] [--suppress]``: erase it
(crm_core.privacy.erase does the work; this only asks and reports).

The zip holds ``data.json`` (every row held about the person, by kind), ``format.md``
(what the file holds and how to read it) and, with ``--with-raw``, the original
messages as ``raw/<ledger id>.eml``. The file is written next to its final name and
renamed into place, so a failed export leaves nothing half-written; it is readable by
its owner only (mode 0600).
"""

from __future__ import annotations

import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from crm_core.privacy import (
    QUARANTINE_SCAN_LIMIT,
    ErasureResult,
    SubjectData,
    erase_subject,
    file_hasher,
    find_subject,
    gather_subject_data,
    raw_of_ledger_rows,
    reclaim_sqlite_pages,
)
from worker.cli.context import CliError, send_after_commit, session_for, settings_of
from worker.cli.output import JsonFlag, emit, json_text, jsonable, print_json, success

app = typer.Typer(no_args_is_help=True)

FORMAT_VERSION = 1
FORMAT_MD = f"""# Data held about one person (format {FORMAT_VERSION})

`data.json` is one JSON object:

- `format`: {FORMAT_VERSION}; `exported_at`: when (UTC, ISO 8601);
- `subject`: the customer id and every address of theirs (aliases included);
- `rows`: by kind, a list of rows, each with the columns as the database holds them
  (times in UTC ISO 8601 with `Z`, amounts as strings with two decimals):
  - `customers`: the customer, and customers merged into it (`merged_into_id` set:
    their address is an alias of the first);
  - `leads`: the person's leads, and leads without a customer sent from their addresses;
  - `conversations`, `messages` (with their bodies), `outbound_replies` (how replies
    written to them were sent);
  - `notes` on the customer, their leads and conversations;
  - `quotes` and `bookings` of the customer or of their leads;
  - `ledger_entries`: how each of their messages was received (mailbox, Gmail message
    and thread ids, labels, size, outcome, reason, times; `raw_held` says whether the
    original bytes are still kept, see [retention]);
  - `quarantined_mentions`: quarantined messages whose original bytes mention one of
    their addresses;
- `quarantine_scan`: how many quarantined messages were searched (the newest
  {QUARANTINE_SCAN_LIMIT}) and whether that was all of them.

`raw/<ledger id>.eml` (only with `--with-raw`): the original message of a ledger entry
or quarantined mention, byte for byte as the mailbox gave it (RFC 822).
"""


def _private(path: str, flags: int) -> int:
    """Personal data: the file is readable by its owner only (mode 0600)."""
    return os.open(path, flags, 0o600)


def _document(data: SubjectData) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "exported_at": datetime.now(UTC),
        "subject": {"customer_id": data.customer_id, "addresses": data.addresses},
        "rows": data.rows,
        "quarantine_scan": {
            "scanned": data.quarantine_scanned,
            "complete": data.quarantine_scan_complete,
        },
    }


@app.command("export")
def export(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(metavar="EMAIL|ID", help="An address or customer id.")],
    out: Annotated[Path, typer.Option("--out", help="The zip file to write.")],
    with_raw: Annotated[
        bool, typer.Option("--with-raw", help="Add the original messages as .eml files.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write everything held about a person to a zip: JSON rows, and original mail."""
    if out.exists() and out.is_dir():
        raise CliError(f"{out} is a folder; give the path of the zip file to write")
    if not out.parent.is_dir():
        raise CliError(f"folder {out.parent} does not exist; create it or choose another path")
    partial = out.with_name(f".{out.name}.partial")
    raw_count = 0
    try:
        with (
            session_for(ctx) as session,
            open(partial, "wb", opener=_private) as file,
            zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            data = gather_subject_data(session, find_subject(session, who).id)
            archive.writestr("format.md", FORMAT_MD)
            archive.writestr("data.json", json_text(jsonable(_document(data))))
            if with_raw:
                for received_id, raw in raw_of_ledger_rows(session, data.ledger_ids()):
                    archive.writestr(f"raw/{received_id}.eml", raw)
                    raw_count += 1
        os.replace(partial, out)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    counts = {kind: len(rows) for kind, rows in data.rows.items()}
    if as_json:
        print_json(
            {
                "file": str(out),
                "customer_id": data.customer_id,
                "rows": counts,
                "raw_messages": raw_count,
            }
        )
        return
    fields = [(kind.replace("_", " ").capitalize(), str(n)) for kind, n in counts.items()]
    if with_raw:
        fields.append(("Original messages", str(raw_count)))
    if not data.quarantine_scan_complete:
        fields.append(("Quarantine", f"newest {data.quarantine_scanned} searched, not all"))
    emit(success(f"Exported customer {data.customer_id} to {out}", fields))


def _erasure_fields(result: ErasureResult) -> list[tuple[str, str]]:
    fields = [(kind.replace("_", " ").capitalize(), str(n)) for kind, n in result.counts.items()]
    if result.placeholder_customer_id:
        fields.append(("Anonymous customer", result.placeholder_customer_id))
    if result.erasure_id:
        fields.append(("Erasure record", result.erasure_id))
    fields.append(("Suppressed", "yes" if result.suppressed else "no"))
    return fields


@app.command("erase")
def erase(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(metavar="EMAIL|ID", help="An address or customer id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Erase: this cannot be undone.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be erased; change nothing.")
    ] = False,
    suppress: Annotated[
        bool,
        typer.Option(
            "--suppress", help="Also refuse their future mail (skipped: suppressed) and replies."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Erase a person (GDPR article 17): their customer, mail, leads and notes go;
    accepted quotes and bookings stay, anonymised."""
    if not yes and not dry_run:
        raise CliError(
            f"erasing {who} cannot be undone: add --yes to erase, or --dry-run to see what goes"
        )
    from worker.database import engine_for

    settings = settings_of(ctx)
    # The key is created only by a real erasure; a dry run must leave no trace.
    hasher = file_hasher(settings.privacy.hash_key_file, create=not dry_run)
    with session_for(ctx) as session:
        result = erase_subject(session, who, hasher, suppress=suppress, dry_run=dry_run)
    if not dry_run:  # the scoring model counted their leads: rebuild it without them
        send_after_commit(ctx, "rescore_leads", "lead rescore waits for the next check")
    log_emptied = dry_run or reclaim_sqlite_pages(engine_for(settings.database))
    if as_json:
        print_json(
            {
                "customer_id": result.customer_id,
                "dry_run": result.dry_run,
                "counts": result.counts,
                "erasure_id": result.erasure_id,
                "placeholder_customer_id": result.placeholder_customer_id,
                "suppressed": result.suppressed,
            }
        )
        return
    title = (
        f"Would erase customer {result.customer_id} (dry run: nothing changed)"
        if dry_run
        else f"Erased customer {result.customer_id}"
    )
    fields = _erasure_fields(result)
    if not log_emptied:
        fields.append(("Note", "a reader kept the SQLite log busy; it is emptied next checkpoint"))
    emit(success(title, fields))

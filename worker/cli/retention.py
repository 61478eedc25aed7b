"""``crm retention run [--dry-run]``: drop raw mail the ledger no longer needs."""

from __future__ import annotations

from typing import Annotated

import typer

from worker.cli.context import settings_of
from worker.cli.jobs import runtime_for
from worker.cli.output import JsonFlag, emit, plural, print_json, success
from worker.jobs.retention import run_retention

app = typer.Typer(no_args_is_help=True)


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@app.command("run")
def run(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be dropped.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Drop the raw bytes of old filed and quarantined mail; the ledger rows stay.

    Filed mail goes after retention.raw_mail_days, quarantined after quarantine_days.
    """
    settings = settings_of(ctx).retention
    counts = run_retention(runtime_for(ctx), settings, dry_run=dry_run)
    if as_json:
        print_json(
            {
                "dry_run": dry_run,
                "raw_mail_days": settings.raw_mail_days,
                "quarantine_days": settings.quarantine_days,
                "processed_dropped": counts.processed,
                "processed_bytes": counts.processed_bytes,
                "quarantined_dropped": counts.quarantined,
                "quarantined_bytes": counts.quarantined_bytes,
            }
        )
        return
    verb = "Would drop" if dry_run else "Dropped"
    emit(
        success(
            f"{verb} the raw mail of {plural(counts.processed + counts.quarantined, 'message')}",
            [
                (
                    f"Filed over {settings.raw_mail_days} days ago",
                    f"{counts.processed} ({megabytes(counts.processed_bytes)})",
                ),
                (
                    f"Quarantined over {settings.quarantine_days} days ago",
                    f"{counts.quarantined} ({megabytes(counts.quarantined_bytes)})",
                ),
            ],
        )
    )

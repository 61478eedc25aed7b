"""``crm ingest resume``: send again the jobs of messages still pending."""

from __future__ import annotations

from typing import Annotated

import typer

from worker.cli.jobs import runtime_for
from worker.cli.output import emit, success
from worker.cli.values import seconds
from worker.jobs.resume import resend_pending

app = typer.Typer(no_args_is_help=True)


@app.command("resume")
def resume(
    ctx: typer.Context,
    older_than: Annotated[
        float,
        typer.Option(help="Only messages pending at least this many seconds.", callback=seconds),
    ] = 60,
) -> None:
    """Re-send ingest jobs for staged messages that are still pending (idempotent)."""
    count = resend_pending(runtime_for(ctx), older_than_seconds=older_than)
    emit(success(f"Sent {count} pending message(s) to ingestion"))

"""``crm import mbox FILE``: ingest a Google Takeout export through the ingest jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crm_core.statuses import IngestOutcome
from worker.cli.context import CliError, settings_of
from worker.cli.jobs import is_inline, runtime_for
from worker.cli.output import JsonFlag, Line, emit, heading, print_json, rule, success
from worker.cli.values import seconds
from worker.importers.run import ImportSummary, import_takeout
from worker.importers.takeout import NotAnMboxError, check_mbox, count_messages

app = typer.Typer(no_args_is_help=True)


@app.command("mbox")
def import_mbox(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    mailbox: Annotated[
        str | None, typer.Option(help="Mailbox the export is from. Default: company.mailbox.")
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            help="With a Redis broker: seconds to wait for the workers to finish.",
            callback=seconds,
        ),
    ] = 600,
    as_json: JsonFlag = False,
) -> None:
    """Import a Google Takeout mbox. Importing the same file again changes nothing."""
    settings = settings_of(ctx)
    runtime = runtime_for(ctx)
    address = mailbox or settings.company.mailbox
    try:
        check_mbox(file)
    except NotAnMboxError as exc:
        raise CliError(str(exc)) from None
    total = count_messages(file)
    inline = is_inline(ctx)
    with Progress(
        TextColumn("[bold]{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        disable=as_json,
    ) as progress:
        staging = progress.add_task("Importing", total=total)
        # With workers, ingestion runs beside staging: a second bar follows the outcomes.
        ingesting = progress.add_task("Ingesting", total=total, visible=not inline)
        summary = import_takeout(
            runtime,
            file,
            address,
            on_progress=lambda n: progress.advance(staging, n),
            on_ingested=lambda n: progress.advance(ingesting, n),
            wait_seconds=0 if inline else wait,
        )
    if as_json:
        print_json(summary_json(summary))
        return
    emit(summary_lines(summary, file.name))


def summary_json(summary: ImportSummary) -> dict[str, object]:
    return {
        "messages": summary.messages,
        "newly_staged": summary.newly_staged,
        "stored": summary.count(IngestOutcome.STORED),
        "skipped": summary.count(IngestOutcome.SKIPPED),
        "bounces": summary.count(IngestOutcome.BOUNCE),
        "quarantined": summary.count(IngestOutcome.QUARANTINED),
        "pending": summary.pending,
        "skipped_by_reason": {
            reason or "": n
            for (outcome, reason), n in sorted(summary.outcomes.items(), key=lambda i: str(i[0]))
            if outcome is IngestOutcome.SKIPPED
        },
        "customers_created": summary.customers_created,
        "leads_created": summary.leads_created,
    }


def summary_lines(summary: ImportSummary, name: str) -> list[Line]:
    data = summary_json(summary)
    lines: list[Line] = [
        *success(
            f"Imported {name}",
            [
                ("Messages", f"{summary.messages} ({summary.newly_staged} new)"),
                ("Stored", str(data["stored"])),
                ("Skipped", str(data["skipped"])),
                ("Bounces", str(data["bounces"])),
                ("Quarantined", str(data["quarantined"])),
                ("Customers", f"{summary.customers_created} created"),
                ("Leads", f"{summary.leads_created} created"),
            ],
        )
    ]
    skipped = data["skipped_by_reason"]
    assert isinstance(skipped, dict)
    if skipped:
        lines.append(heading("Skipped by reason"))
        lines.extend(f"  {reason:<32}{n}" for reason, n in sorted(skipped.items()))
        lines.append(rule())
    if summary.pending:
        lines.append(f"Still pending: {summary.pending} (workers busy; run again to see them)")
    if data["quarantined"]:
        lines.append("See `crm quarantine list` for the quarantined messages.")
    return lines

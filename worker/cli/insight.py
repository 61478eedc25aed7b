"""``crm insight backfill`` and ``crm template name``: insight housekeeping."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_core.insight.backfill import backfill_chunk
from crm_core.insight.templates import name_template
from worker.cli.context import session_for
from worker.cli.output import emit, plural, success

insight_app = typer.Typer(no_args_is_help=True)
template_app = typer.Typer(no_args_is_help=True)


@insight_app.command("backfill")
def backfill(
    ctx: typer.Context,
    chunk: Annotated[int, typer.Option(min=1, max=10_000, help="Messages per transaction.")] = 500,
) -> None:
    """Score the sentiment and find the template of messages stored before insight
    existed, a chunk per transaction (safe to stop and run again)."""
    scored = templated = 0
    after: str | None = None
    while True:
        with session_for(ctx) as session:
            done = backfill_chunk(session, after=after, size=chunk)
        scored += done.scored
        templated += done.templated
        if done.last_id is None:
            break
        after = done.last_id
    emit(
        success(
            "Backfill done",
            [
                ("Inbound scored", plural(scored, "message")),
                ("Outbound given a template", plural(templated, "message")),
            ],
        )
    )


@template_app.command("name")
def name(
    ctx: typer.Context,
    template_id: Annotated[str, typer.Argument(help="Template ID (crm report templates).")],
    new_name: Annotated[str, typer.Argument(metavar="NAME", help='E.g. "Tilbud flytterengøring".')],
) -> None:
    """Name a template: reports show the name, and `crm reply --template NAME` uses it."""
    with session_for(ctx) as session:
        template = name_template(session, template_id, new_name)
        emit(success(f"Template {template.id} is named {template.name!r}"))

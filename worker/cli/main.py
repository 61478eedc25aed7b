"""The ``crm`` command: customers, leads, quotes, bookings, reports and migrations.

To add a command group, write a module with its own ``app = typer.Typer()`` (commands
use ``worker.cli.context.session_for(ctx)`` for their transaction) and register it
in the block marked "Command groups" below with ``app.add_typer``; a single command
is registered with ``app.command("name")(function)``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from worker.cli import (
    config_check,
    customers,
    db,
    demo,
    imports,
    ingest,
    quarantine,
    reports,
    sales,
    status,
    watch,
    worker_daemon,
)
from worker.cli.context import CliState, CrmGroup, describe_error
from worker.cli.gmail import app as gmail_app
from worker.cli.gmail import audit, replay_thread, sync
from worker.cli.output import print_error

app = typer.Typer(
    cls=CrmGroup,
    name="crm",
    help=(
        "Rendetalje's customer database: customers, leads, quotes, bookings and reports.\n\n"
        "The database is configured in config.toml (or --config / CRM_CONFIG, and "
        "CRM_DATABASE_URL). The embedded default, SQLite, is created and migrated on "
        "first use; a PostgreSQL database is set up with `crm db upgrade`."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="CRM_CONFIG",
            dir_okay=False,
            help="Settings file (TOML). Default: ./config.toml when present.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Settings are read lazily, by the first command that needs them."""
    ctx.obj = CliState(config_path=config)


# --- Command groups ---------------------------------------------------------------
app.add_typer(customers.app, name="customer", help="Create, find, update and inspect customers.")
app.add_typer(sales.lead_app, name="lead", help="Leads: requests for work.")
app.add_typer(sales.quote_app, name="quote", help="Quotes: draft, send, accept or reject.")
app.add_typer(sales.booking_app, name="booking", help="Bookings: scheduled jobs.")
app.add_typer(reports.app, name="report", help="Analytics: revenue, response ratios, AI mail.")
app.add_typer(db.app, name="db", help="Database migrations (Alembic).")
app.add_typer(imports.app, name="import", help="Import mail exports (Google Takeout mbox).")
app.add_typer(quarantine.app, name="quarantine", help="Messages that could not be processed.")
app.add_typer(ingest.app, name="ingest", help="Ingestion housekeeping: resume pending messages.")
app.command("demo")(demo.demo)
app.command("worker")(worker_daemon.worker)
app.command("watch")(watch.watch)
app.add_typer(status.app)
app.add_typer(config_check.app, name="config", help="Check the configuration.")
app.add_typer(gmail_app, name="gmail", help="Gmail mailboxes: authorise, status.")
app.command("sync")(sync)
app.command("replay-thread")(replay_thread)
app.command("audit")(audit)


def main() -> None:
    """Entry point of the ``crm`` executable: expected failures are one red line on
    stderr and exit code 1, never a traceback."""
    try:
        app()
    except Exception as exc:
        message = describe_error(exc)
        if message is None:
            raise
        print_error(message)
        sys.exit(1)


if __name__ == "__main__":
    main()

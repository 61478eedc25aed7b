"""The ``crm`` command: customers, leads, quotes, bookings, reports, mail and jobs.

Every command lives in its own module and is imported only when it runs: importing
all of them, with Alembic, Dramatiq and the Google client among their dependencies,
doubled the start-up time of every command. ``crm --help`` lists the commands with the
help lines written here, so it imports none of them (nor SQLAlchemy or pydantic).

To add a command group, write a module with its own ``app = typer.Typer()`` (commands
use ``worker.cli.context.session_for(ctx)`` for their transaction) and list it in
``COMMANDS`` below with its name and help; a single command is listed by its function
and the first line of its docstring (tests/cli/test_startup.py checks they agree).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from worker.cli.context import CliState, CrmGroup, describe_error
from worker.cli.lazy import Lazy, load_command

if TYPE_CHECKING:
    from typer._click import Command, Context  # Typer's own copy of Click


# In the order the help lists them.
COMMANDS: dict[str, Lazy] = {
    "demo": Lazy(
        "worker.cli.demo",
        "demo",
        "Ingest the sample mailbox (jobs in-process) and show the customers it yields.",
    ),
    "worker": Lazy(
        "worker.cli.worker_daemon",
        "worker",
        "Run the job workers (needs broker.url = redis://…). Stops cleanly on SIGTERM:",
    ),
    "watch": Lazy(
        "worker.cli.watch",
        "watch",
        "Keep the configured mailboxes in sync until SIGTERM (poll or push mode).",
    ),
    "sync": Lazy(
        "worker.cli.gmail",
        "sync",
        "Sync Gmail into the ledger now, in this process (ingest jobs go to the broker).",
    ),
    "replay-thread": Lazy(
        "worker.cli.gmail",
        "replay_thread",
        "Fetch a thread's messages missing from the ledger, then ingest the whole thread again.",
    ),
    "audit": Lazy(
        "worker.cli.gmail",
        "audit",
        "Check that every message in Gmail has a final outcome in the ledger.",
    ),
    # merge.py adds merge and duplicates to customers.py's group; leads.py and
    # bookings.py add list, show and the rest to the groups of sales.py.
    "customer": Lazy(
        "worker.cli.merge", "app", "Create, find, update, merge and inspect customers."
    ),
    "search": Lazy(
        "worker.cli.search",
        "search",
        "Search customers (name, email, phone, company, address; small typos forgiven)",
    ),
    "conversation": Lazy(
        "worker.cli.conversations", "app", "Conversations: read, close, reopen, archive."
    ),
    "lead": Lazy("worker.cli.leads", "app", "Leads: requests for work."),
    "quote": Lazy("worker.cli.bookings", "quote_app", "Quotes: draft, send, accept or reject."),
    "booking": Lazy("worker.cli.bookings", "booking_app", "Bookings: scheduled jobs."),
    "note": Lazy("worker.cli.notes", "app", "Dated notes on customers, leads and conversations."),
    "report": Lazy(
        "worker.cli.reports",
        "app",
        "Analytics: revenue, response ratios, AI mail, templates, sentiment, trends.",
    ),
    "template": Lazy("worker.cli.insight", "template_app", "Templates of outbound mail: name."),
    "insight": Lazy(
        "worker.cli.insight", "insight_app", "Insight housekeeping: backfill old messages."
    ),
    "db": Lazy("worker.cli.db", "app", "Database migrations (Alembic)."),
    "import": Lazy("worker.cli.imports", "app", "Import mail exports (Google Takeout mbox)."),
    "quarantine": Lazy("worker.cli.quarantine", "app", "Messages that could not be processed."),
    "ingest": Lazy("worker.cli.ingest", "app", "Ingestion housekeeping: resume pending messages."),
    "status": Lazy(
        "worker.cli.status",
        "status",
        "Per mailbox: state, last sync, lag, counts today, quarantined, needs_reauth.",
    ),
    "explain": Lazy(
        "worker.cli.explain",
        "explain_command",
        "Why a message is (or would be) filed as it is: parse, rules, lead fields. Writes nothing.",
    ),
    "reply": Lazy(
        "worker.cli.replies", "app", "Replies through Gmail: write, list, approve, cancel."
    ),
    "retention": Lazy(
        "worker.cli.retention", "app", "Retention: drop raw mail the ledger no longer needs."
    ),
    "privacy": Lazy(
        "worker.cli.privacy", "app", "Requests from data subjects: export or erase what is held."
    ),
    "webhook": Lazy(
        "worker.cli.webhooks", "app", "Webhooks: send the CRM's events to other systems, signed."
    ),
    "config": Lazy("worker.cli.config_check", "app", "Check the configuration."),
    "gmail": Lazy("worker.cli.gmail", "app", "Gmail mailboxes: authorise, status."),
    "resident": Lazy(
        "worker.cli.resident.commands",
        "app",
        "The resident server that keeps `crm` quick: status, stop.",
    ),
}


class RootGroup(CrmGroup):
    """The ``crm`` group: its sub-commands are imported on first use."""

    listing = False  # while the help lists the commands

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def format_help(self, ctx: Context, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            if self.listing:  # a stand-in that has the help line, not the import
                return TyperCommand(cmd_name, help=COMMANDS[cmd_name].help)
            self.commands[cmd_name] = load_command(cmd_name, COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=RootGroup,
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


def main() -> None:
    """Entry point of the ``crm`` executable: expected failures are one red line on
    stderr and exit code 1, never a traceback."""
    try:
        app()
    except Exception as exc:
        message = describe_error(exc)
        if message is None:
            raise
        from worker.cli.output import print_error

        print_error(message)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""``crm customer export | import | bulk``: customer files and changes to many customers.

Parsing, printing and the transaction of each import batch live here; reading, checking,
matching and writing customers are crm_core.transfer and crm_core.customers.bulk_changes.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from crm_core.customers.bulk_changes import add_tags, remove_tags, set_status
from crm_core.customers.filters import CustomerFilter
from crm_core.db import transaction
from crm_core.errors import ValidationError
from crm_core.transfer.export import ExportFormat, write_customers
from crm_core.transfer.first_seen import FirstSeen
from crm_core.transfer.importing import (
    CONFLICT_POLICIES,
    LOOKUP_COLUMNS,
    ImportCounts,
    import_batch,
)
from crm_core.transfer.reading import open_customer_file
from crm_core.transfer.records import ImportRecord, RejectedRowError, check_row
from crm_core.transfer.rejects import RejectFile
from crm_core.transfer.table_growth import TableGrowth
from worker.cli.context import prepare_embedded_database, session_for, settings_of
from worker.cli.output import emit, parse_local_datetime, plural, print_json, printable, success
from worker.database import sessions_for

BATCH = 2_000

# --- the filters of `crm customer list`, plus ranges ---------------------------------

StatusFilter = Annotated[
    str | None, typer.Option("--status", help="Only customers with this status.")
]
TagFilter = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", help="Only customers with this tag; repeat for several."),
]
AnyTag = Annotated[bool, typer.Option("--any-tag", help="Any of the tags, not all.")]

CreatedSince = Annotated[
    str | None, typer.Option("--created-since", help="Created at or after (01.10.2025).")
]
CreatedBefore = Annotated[str | None, typer.Option("--created-before", help="Created before.")]
ContactedSince = Annotated[
    str | None, typer.Option("--contacted-since", help="Last contact at or after.")
]
ContactedBefore = Annotated[
    str | None, typer.Option("--contacted-before", help="Last contact before.")
]


def _moment(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_local_datetime(value)
    except ValueError as exc:
        raise ValidationError(f"{option}: {exc}") from None


def customer_filter(
    status: str | None,
    tags: list[str] | None,
    any_tag: bool,
    created_since: str | None,
    created_before: str | None,
    contacted_since: str | None,
    contacted_before: str | None,
) -> CustomerFilter:
    return CustomerFilter(
        status=status,
        tags=tuple(tags or ()),
        match="any" if any_tag else "all",
        created_since=_moment("--created-since", created_since),
        created_before=_moment("--created-before", created_before),
        contacted_since=_moment("--contacted-since", contacted_since),
        contacted_before=_moment("--contacted-before", contacted_before),
    )


_FILTER_OPTIONS = {
    "status": (StatusFilter, None),
    "tag": (TagFilter, None),
    "any_tag": (AnyTag, False),
    "created_since": (CreatedSince, None),
    "created_before": (CreatedBefore, None),
    "contacted_since": (ContactedSince, None),
    "contacted_before": (ContactedBefore, None),
}


def filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the filter options in place of its ``wanted`` parameter.

    Typer reads the signature, so the options are written once here and every command
    that selects customers offers the same ones in the same order.
    """
    signature = inspect.signature(command, eval_str=True)
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name != "wanted":
            parameters.append(parameter)
            continue
        parameters += [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a)
            for name, (a, d) in _FILTER_OPTIONS.items()
        ]

    @functools.wraps(command)
    def with_filter(*args: Any, **kwargs: Any) -> None:
        given = [kwargs.pop(name) for name in _FILTER_OPTIONS]
        command(*args, wanted=customer_filter(*given), **kwargs)

    with_filter.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_filter.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_filter


# --- export ---------------------------------------------------------------------------


def _last(counts: Iterator[int]) -> int:
    """Run a writer to its end; its last count."""
    last = 0
    for last in counts:  # noqa: B007
        pass
    return last


@filter_options
def export(
    ctx: typer.Context,
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, or - for standard output.")
    ],
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    excel: Annotated[
        bool, typer.Option("--excel", help="For Danish Excel: ; separator, BOM, decimal comma.")
    ] = False,
    *,
    wanted: CustomerFilter,
) -> None:
    """Write every field of the selected customers (all by default) to a CSV or JSON Lines file.

    A file is written under a temporary name and renamed when complete.
    """
    if fmt not in ("csv", "jsonl"):
        raise ValidationError(f"unknown --format {fmt!r}; expected csv or jsonl")
    export_format: ExportFormat = "csv" if fmt == "csv" else "jsonl"
    if excel and fmt != "csv":
        raise ValidationError("--excel is for --format csv")
    with session_for(ctx) as session:
        if output == "-":
            sys.stdout.flush()
            _last(
                write_customers(session, sys.stdout.buffer, wanted, fmt=export_format, excel=excel)
            )
            sys.stdout.buffer.flush()
            return
        target = Path(output)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with partial.open("wb") as out:
                written = _last(
                    write_customers(session, out, wanted, fmt=export_format, excel=excel)
                )
            os.replace(partial, target)
        except OSError as exc:
            raise ValidationError(f"{output}: cannot write it ({exc.strerror})") from None
        finally:
            partial.unlink(missing_ok=True)
    emit(success(f"Exported {plural(written, 'customer')} to {target}"))


# --- import ---------------------------------------------------------------------------


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise ValidationError(f"--map {pair!r}: expected COLUMN=FIELD, e.g. 'Kunde=name'")
        mapping[column.strip()] = field.strip()
    return mapping


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV file (Excel, Google Sheets, …).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and count; write nothing.")
    ] = False,
    on_conflict: Annotated[
        str,
        typer.Option(help="A row that differs from a stored customer: skip, update or error."),
    ] = "skip",
    map_column: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=FIELD for a column the built-in names miss."),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(help="Where rejected rows go. Default: FILE.errors.csv beside FILE."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Create and update customers from a CSV file; importing it again changes nothing."""
    if on_conflict not in CONFLICT_POLICIES:
        raise ValidationError(
            f"unknown --on-conflict {on_conflict!r}; expected skip, update or error"
        )
    settings = settings_of(ctx)
    region = settings.ingest.phone_region
    prepare_embedded_database(settings.database)
    sessions = sessions_for(settings.database)
    counts = ImportCounts()
    error_path = errors or file.with_name(file.name + ".errors.csv")
    # Found out before any batch is written (a failure later is one line too).
    if not error_path.parent.is_dir():
        raise ValidationError(f"--errors {error_path}: no such directory")
    if error_path.is_dir():
        raise ValidationError(f"--errors {error_path}: is a directory; give a file name")
    with open_customer_file(file, _mapping(map_column)) as source, FirstSeen() as seen:
        growth = TableGrowth("customers", *LOOKUP_COLUMNS)
        shape = source.shape
        error_path.unlink(missing_ok=True)  # an error file of an earlier run would mislead
        rejects = RejectFile(error_path, shape.delimiter, shape.headers)
        if not as_json:
            note = f"{printable(file.name)}: {shape.encoding}, separator {shape.delimiter!r}"
            if shape.ignored:
                note += f"; ignored columns: {', '.join(map(printable, shape.ignored))}"
            emit([note])
        try:
            with Progress(
                TextColumn("[bold]Importing"),
                BarColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                transient=True,
                disable=as_json,
            ) as progress:
                task = progress.add_task("import", total=source.size)
                records: list[ImportRecord] = []
                refused: list[tuple[int, str]] = []  # (line, reason) of rows that failed a check
                cells_of: dict[int, list[str]] = {}

                def flush() -> None:
                    with transaction(sessions) as session:
                        done = import_batch(
                            session,
                            records,
                            seen,
                            policy=on_conflict,
                            dry_run=dry_run,
                            region=region,
                            growth=growth,
                        )
                    # The batch's rejected rows in line order, whichever step refused them.
                    done.rejected = sorted([*refused, *done.rejected])
                    for line, reason in done.rejected:
                        rejects.write(line, reason, cells_of[line])
                    counts.add(done)
                    records.clear()
                    refused.clear()
                    cells_of.clear()
                    progress.update(task, completed=source.position())

                for row in source.rows():
                    cells_of[row.line] = row.cells
                    try:
                        records.append(check_row(row, shape.fields, region))
                    except RejectedRowError as rejected:
                        refused.append((rejected.line, rejected.reason))
                    if len(records) + len(refused) >= BATCH:
                        flush()
                flush()
        finally:
            rejects.close()
    _report(counts, dry_run, rejects, as_json)


def _report(counts: ImportCounts, dry_run: bool, rejects: RejectFile, as_json: bool) -> None:
    summary = {
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "skipped": counts.skipped,
        "rejected": len(counts.rejected),
        "dry_run": dry_run,
        "error_file": str(rejects.path) if rejects.count else None,
    }
    if as_json:
        print_json(summary)
        return
    verb = "Would import" if dry_run else "Imported"
    lines = success(
        f"{verb}: {counts.created} created, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.skipped} skipped, "
        f"{len(counts.rejected)} rejected"
    )
    if counts.skipped:
        differ = (
            "row differs from its stored customer and was"
            if counts.skipped == 1
            else "rows differ from their stored customers and were"
        )
        lines.append(
            f"{counts.skipped:,} {differ} skipped: --on-conflict update takes the file's values."
        )
    for line, reason in counts.rejected[:5]:
        lines.append(f"line {line}: {printable(reason)}")
    if len(counts.rejected) > 5:
        lines.append(f"… and {len(counts.rejected) - 5} more")
    if rejects.count:
        lines.append(f"Rejected rows with line and reason: {printable(str(rejects.path))}")
    emit(lines)


# --- bulk -----------------------------------------------------------------------------

bulk_app = typer.Typer(no_args_is_help=True, help="Change the tags or status of many customers.")
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Show how many customers would change; change nothing.")
]


@bulk_app.command("tag")
@filter_options
def bulk_tag(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="add or remove.")],
    tags: Annotated[list[str], typer.Argument(help="One or more tags.")],
    *,
    wanted: CustomerFilter,
    dry_run: DryRun = False,
) -> None:
    """Add or remove tags on every customer the filters select (all when none given)."""
    if action not in ("add", "remove"):
        raise ValidationError(f"unknown action {action!r}; expected add or remove")
    change = add_tags if action == "add" else remove_tags
    with session_for(ctx) as session:
        changed = change(session, wanted, tags, dry_run=dry_run)
    verb = {"add": ("Would add", "Added"), "remove": ("Would remove", "Removed")}[action]
    where = "to" if action == "add" else "from"
    emit(
        success(
            f"{verb[0] if dry_run else verb[1]} tag {printable(t)} {where} {plural(n, 'customer')}"
        )[0]
        for t, n in changed.items()
    )


@bulk_app.command("status")
@filter_options
def bulk_status(
    ctx: typer.Context,
    new_status: Annotated[str, typer.Argument(help="active, inactive or blocked.")],
    *,
    wanted: CustomerFilter,
    dry_run: DryRun = False,
) -> None:
    """Give every customer the filters select this status (all when no filter is given)."""
    with session_for(ctx) as session:
        changed = set_status(session, wanted, new_status, dry_run=dry_run)
    verb = "Would set" if dry_run else "Set"
    emit(success(f"{verb} status {printable(new_status)} on {plural(changed, 'customer')}"))


__all__ = ["bulk_app", "export", "import_file"]

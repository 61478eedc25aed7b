"""The last lines of a list or report: how many there are in all, and how to see more.

A list that shows everything ends in ``Total: 3 customers``, as it always did. One
that shows a page says so, with the total (exact up to a thousand, else the planner's
estimate, "about"; see crm_core.paging) and the command for the next page or the
option that lifts the limit.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crm_core.paging import Page
from worker.cli.output import Line, plural

AfterOption = Annotated[
    str | None,
    typer.Option(
        "--after",
        metavar="CURSOR",
        help="Start after this cursor (printed at the end of the previous page).",
        show_default=False,
    ),
]
AllOption = Annotated[bool, typer.Option("--all", help="Show every row, not only the first.")]


def showing(shown: int, total: int, noun: str, nouns: str | None = None) -> str:
    """``Showing 20 of 143 leads`` (or ``3 leads`` when all are shown)."""
    if shown == total:
        return f"Total: {plural(total, noun, nouns)}"
    return f"Showing {shown} of {plural(total, noun, nouns)} (--limit to see more)"


def page_footer(
    page: Page[Any],
    noun: str,
    nouns: str | None = None,
    *,
    next_command: str | None = None,
    lift: str | None = "--all shows every one.",
) -> list[Line]:
    if page.complete:
        return [f"Total: {plural(page.total.count, noun, nouns)}"]
    many = nouns or noun + "s"
    lines: list[Line] = [f"Showing {len(page):,} of {page.total} {many}."]
    if page.next_after is not None and next_command is not None:
        lines.append(f"Next page: {next_command} --after {page.next_after}")
    elif page.next_after is None and lift is not None and len(page) < page.total.count:
        lines.append(lift)
    return lines

"""``crm customer merge`` and ``crm customer duplicates`` (the other customer commands
are in worker/cli/customers.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_core import services
from crm_core.customers import get_customer
from crm_core.models import Customer
from worker.cli.context import session_for
from worker.cli.customers import app, find_customer
from worker.cli.output import (
    JsonFlag,
    Line,
    emit,
    format_kr,
    plural,
    print_json,
    success,
    table,
    text_or_empty,
)
from worker.cli.paging import showing


@app.command("merge")
def merge(
    ctx: typer.Context,
    keep: Annotated[str, typer.Argument(help="The customer to keep (email or ID).")],
    duplicate: Annotated[str, typer.Argument(help="The duplicate to merge into it (email or ID).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would move; change nothing.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Merge a duplicate into the customer to keep: its leads, conversations, quotes,
    bookings and notes move, and its address becomes an alias of the kept customer."""
    with session_for(ctx) as session:
        kept, dup = find_customer(session, keep), find_customer(session, duplicate)
        result = services.merge_customers(session, kept.id, dup.id, dry_run=dry_run)
        kept = get_customer(session, kept.id)
        data = {
            "keep_id": result.keep_id,
            "duplicate_id": result.duplicate_id,
            "alias": result.alias,
            "moved": result.moved,
            "dry_run": dry_run,
            "total_leads": kept.total_leads,
            "total_bookings": kept.total_bookings,
            "total_revenue": kept.total_revenue,
        }
        moved = ", ".join(plural(n, name.rstrip("s"), name) for name, n in result.moved.items())
        if dry_run:
            lines: list[Line] = [
                f"Dry run: merging {_label(dup)} into {_label(kept)}",
                f"would move {moved}.",
                "Nothing was changed.",
            ]
        else:
            lines = success(f"Merged {_label(dup)} into {_label(kept)}.")
            lines += [
                f"Moved {moved}.",
                f"{result.alias} is now an alias of {kept.name}." if result.alias else "",
                f"{kept.name}: {plural(kept.total_leads, 'lead')}, "
                f"{plural(kept.total_bookings, 'booking')}, "
                f"{format_kr(kept.total_revenue)} revenue",
            ]
    if as_json:
        print_json(data)
    else:
        emit([line for line in lines if line != ""])


def _label(customer: Customer) -> str:
    return f"{customer.name} <{customer.email}>" if customer.email else customer.name


def _person(customer: Customer) -> dict[str, str | None]:
    return {"id": customer.id, "name": customer.name, "email": customer.email}


@app.command("duplicates")
def duplicates(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many pairs.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Likely duplicates: the same phone, the same name and address, or addresses one
    typo apart (gmial.com / gmail.com)."""
    with session_for(ctx) as session:
        pairs, total = services.find_duplicates(session, limit=limit)
        if as_json:
            print_json(
                {
                    "total": total,
                    "pairs": [
                        {
                            "first": _person(p.first),
                            "second": _person(p.second),
                            "reasons": list(p.reasons),
                        }
                        for p in pairs
                    ],
                }
            )
            return
        rows = [
            [
                f"{p.first.name} <{text_or_empty(p.first.email)}>",
                f"{p.second.name} <{text_or_empty(p.second.email)}>",
                ", ".join(p.reasons),
                f"crm customer merge {p.first.id} {p.second.id}",
            ]
            for p in pairs
        ]
    if not rows:
        emit(["No likely duplicates."])
        return
    emit(
        [
            *table(["Customer", "Possible duplicate", "Why", "To merge"], rows),
            showing(len(rows), total, "pair"),
        ]
    )

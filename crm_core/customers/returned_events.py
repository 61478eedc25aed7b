"""Webhook events of customers a set-based statement changed, from its RETURNING rows.

``emit_for_customers`` reads each customer back as an ORM object after the statement;
for 100,000 customers that read cost more than the statement itself. An INSERT or
UPDATE that returns the columns an event tells (``EVENT_COLUMNS``) gives the same
payload without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from crm_core.models import Customer
from crm_core.webhooks.events import customer_data, emit_many

# What customer_data reads: a statement returning these can describe its rows.
EVENT_COLUMNS = (
    Customer.id,
    Customer.name,
    Customer.email,
    Customer.phone,
    Customer.address,
    Customer.company_name,
    Customer.status,
    Customer.tags,
)


def emit_for_rows(
    session: Any,
    type: str,
    rows: Iterable[Any],
    changed: Sequence[str] | None = None,
) -> None:
    """``type`` for each returned row, in customer ID order (as emit_for_customers
    writes them); ``changed`` names the changed fields of every row."""

    def item(row: Any) -> tuple[dict[str, Any], str]:
        data = customer_data(cast(Customer, row))
        if changed is not None:
            data["changed"] = sorted(changed)
        return data, str(row.id)

    emit_many(session, type, (item(row) for row in sorted(rows, key=lambda row: str(row.id))))

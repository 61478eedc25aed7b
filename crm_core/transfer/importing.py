"""Applying checked rows to the customers, a batch at a time, in a few statements.

A batch: two SELECTs find the customers the rows name (by the ID column of an export,
else by email ignoring letter case, else by the same name and phone), one multi-row
INSERT creates the new ones (on PostgreSQL a COPY and one INSERT … SELECT), one
executemany UPDATE changes the others. The caller commits each batch, so an import
stopped half way keeps whole batches only, and importing the same file again finds
every row equal to what is stored: nothing changes.
The email of a stored customer is never changed by an import.

A row changes only the fields it has a value for (an empty cell leaves the stored
value), tags replace the stored tags, and a phone equal to the stored one after
normalisation (``12 34 56 78`` = ``+4512345678``) is no change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ARRAY, String, any_, bindparam, cast, select, update
from sqlalchemy.orm import Session

from crm_core.customers.bulk import _is_placeholder
from crm_core.customers.returned_events import EVENT_COLUMNS, emit_for_rows
from crm_core.errors import ConflictError
from crm_core.ids import new_id
from crm_core.models import Customer
from crm_core.models.types import utcnow
from crm_core.normalize import normalize_phone
from crm_core.statuses import CustomerStatus
from crm_core.transfer.copy_insert import copy_insert_ignore_returning
from crm_core.transfer.first_seen import FirstSeen
from crm_core.transfer.records import ImportRecord
from crm_core.transfer.table_growth import TableGrowth
from crm_core.upsert import insert_many_ignore_returning
from crm_core.webhooks.events import emit_for_customers, subscribed

ConflictPolicy = Literal["skip", "update", "error"]
CONFLICT_POLICIES: tuple[ConflictPolicy, ...] = ("skip", "update", "error")
_COMPARED = ("name", "phone", "company_name", "address", "notes", "tags", "status")
# The columns the lookups below filter on: an import keeps PostgreSQL's statistics of
# these up to date as it grows the table (crm_core.transfer.table_growth).
LOOKUP_COLUMNS = ("id", "email_normalized", "name", "merged_into_id")
_LOADED = (
    Customer.id,
    Customer.email_normalized,
    Customer.merged_into_id,
    *(getattr(Customer, f) for f in _COMPARED),
)


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # differs from the stored customer, left alone (--on-conflict skip)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def add(self, other: ImportCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.rejected.extend(other.rejected)


class ImportConflictError(ConflictError):
    """A row differs from a stored customer under ``--on-conflict error``."""


def _by_id(session: Session, records: Sequence[ImportRecord]) -> dict[str, Any]:
    """The stored customers whose IDs the records give, by ``"id:…"`` key."""
    ids = sorted({r.customer_id for r in records if r.customer_id})
    rows = _stored(session, Customer.id, ids, Customer.merged_into_id.is_(None))
    return {"id:" + row.id: row for row in rows}


def _match_key(record: ImportRecord, by_id: dict[str, Any]) -> str:
    if record.customer_id and "id:" + record.customer_id in by_id:
        return "id:" + record.customer_id
    return record.key


# Addresses looked up per statement. On PostgreSQL, a batch's addresses in one array:
# the planner weighs the probes of the unique index against a scan comparing each row
# with the hashed array. With fresh statistics (crm_core.transfer.table_growth), 2,000
# addresses took 4 to 6 ms at 20,000 to 1,000,000 customers, through the index from
# 100,000 on (bench/import_steps.py). An IN list of 1,000 values once made it scan
# 100,000 customers in 31 ms, hence 200 per statement before. On SQLite, a statement
# takes at most 999 parameters in older builds.
_PG_PROBES = 2_000
_SQLITE_PROBES = 200


def _stored(session: Session, column: Any, values: list[str], *also: Any) -> Iterator[Any]:
    """The stored customers (``_LOADED``) whose ``column`` is one of ``values`` (and that
    meet ``also``), a statement per part. On PostgreSQL ``= ANY(array)``, one parameter:
    the same statement text each time, so neither SQLAlchemy nor psycopg compiles it
    again for each list (an IN of 200 values cost 0.4 s of CPU per 100,000 rows)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    per_statement = _PG_PROBES if postgresql else _SQLITE_PROBES
    for start in range(0, len(values), per_statement):
        part = values[start : start + per_statement]
        one_of = (
            column == any_(cast(bindparam("values", part), ARRAY(String)))
            if postgresql
            else column.in_(part)
        )
        yield from session.execute(select(*_LOADED).where(one_of, *also))


def _existing(session: Session, records: Sequence[ImportRecord], region: str) -> dict[str, Any]:
    """The stored customers the records name (without a known ID), by record key.

    Matching is by normalised email; an alias (the address of a customer merged into
    another) matches the kept customer.
    """
    emails = sorted({r.email_normalized for r in records if r.email_normalized})
    found: dict[str, Any] = {}
    merged: dict[str, str] = {}  # alias key -> kept customer ID
    for row in _stored(session, Customer.email_normalized, emails):
        if row.merged_into_id is None:
            found["email:" + row.email_normalized] = row
        else:
            merged["email:" + row.email_normalized] = row.merged_into_id
    if merged:
        kept = {row.id: row for row in _stored(session, Customer.id, sorted(set(merged.values())))}
        found.update({key: kept[id_] for key, id_ in merged.items() if id_ in kept})
    names = sorted({r.name for r in records if not r.email_normalized})
    live_without_email = (Customer.email_normalized.is_(None), Customer.merged_into_id.is_(None))
    for row in _stored(session, Customer.name, names, *live_without_email):
        key = f"name:{row.name}\x00{normalize_phone(row.phone, region) if row.phone else ''}"
        found.setdefault(key, row)
    return found


def _changes(record: ImportRecord, stored: Any, region: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    # A placeholder name (from the address) never replaces a stored name.
    placeholder = record.email_normalized and _is_placeholder(record.name, record.email_normalized)
    if record.name_given and record.name != stored.name and not placeholder:
        changes["name"] = record.name
    if record.phone is not None and record.phone != stored.phone:
        # Equal text is no change; parse only a stored number written another way.
        stored_phone = normalize_phone(stored.phone, region) if stored.phone else None
        if record.phone != stored_phone:
            changes["phone"] = record.phone
    for key in ("company_name", "address", "notes"):
        value = getattr(record, key)
        if value is not None and value != getattr(stored, key):
            changes[key] = value
    if record.tags is not None and record.tags != list(stored.tags or []):
        changes["tags"] = record.tags
    if record.status is not None and record.status != stored.status:
        changes["status"] = record.status
    return changes


def _new_row(record: ImportRecord, now: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "name": record.name,
        "email": record.email,
        "email_normalized": record.email_normalized,
        "phone": record.phone,
        "company_name": record.company_name,
        "address": record.address,
        "notes": record.notes,
        "status": (record.status or CustomerStatus.ACTIVE).value,
        "tags": record.tags or [],
        "total_leads": 0,
        "total_bookings": 0,
        "total_revenue": 0,
        "created_at": now,
        "updated_at": now,
    }


def _sort_out(
    rows: Sequence[tuple[str, ImportRecord]],
    stored: dict[str, Any],
    policy: ConflictPolicy,
    region: str,
    now: Any,
    counts: ImportCounts,
) -> tuple[list[tuple[str, ImportRecord]], list[dict[str, Any]]]:
    """The rows no stored customer matches (to create), and the changes to stored
    customers the policy lets through; unchanged and skipped rows are counted."""
    new: list[tuple[str, ImportRecord]] = []
    updates: list[dict[str, Any]] = []
    for key, record in rows:
        customer = stored.get(key)
        if customer is None:
            new.append((key, record))
            continue
        changes = _changes(record, customer, region)
        if not changes:
            counts.unchanged += 1
        elif policy == "update":
            updates.append({"id": customer.id, **changes, "updated_at": now})
        elif policy == "skip":
            counts.skipped += 1
        else:
            raise ImportConflictError(
                f"line {record.line}: customer {record.email or record.name} exists with "
                f"other values ({', '.join(sorted(changes))}); this batch was not written "
                "(use --on-conflict skip or update)"
            )
    return new, updates


def import_batch(
    session: Session,
    records: Sequence[ImportRecord],
    seen: FirstSeen,
    *,
    policy: ConflictPolicy = "skip",
    dry_run: bool = False,
    region: str = "DK",
    growth: TableGrowth | None = None,
) -> ImportCounts:
    """Create and update the customers of one batch (the caller commits).

    A row whose customer an earlier row of the file named already is rejected as a
    duplicate (the first row wins). ImportConflictError under ``policy="error"``.
    ``growth``, kept from batch to batch, keeps the planner's idea of the table's size
    up to date (crm_core.transfer.table_growth).
    """
    counts = ImportCounts()
    by_id = _by_id(session, records)
    keys = [_match_key(record, by_id) for record in records]
    earlier = seen.first_lines(zip(keys, (record.line for record in records), strict=True))
    in_batch: dict[str, int] = {}
    unique: list[tuple[str, ImportRecord]] = []
    for key, record in zip(keys, records, strict=True):
        first = earlier.get(key) or in_batch.get(key)
        if first is not None:
            what = (
                "ID" if key.startswith("id:")
                else "email" if record.email_normalized
                else "name and phone"
            )  # fmt: skip
            counts.rejected.append(
                (record.line, f"duplicate of line {first} (same {what}): the first row is kept")
            )
            continue
        in_batch[key] = record.line
        unique.append((key, record))

    stored = {**_existing(session, [r for k, r in unique if k not in by_id], region), **by_id}
    now = utcnow()
    new, updates = _sort_out(unique, stored, policy, region, now, counts)
    inserts = [_new_row(record, now) for _, record in new]
    counts.created = len(inserts)
    if not dry_run:
        postgresql = session.get_bind().dialect.name == "postgresql"
        insert = copy_insert_ignore_returning if postgresql else insert_many_ignore_returning
        # The whole row only for an event someone will receive; else the ID, to count.
        wanted = EVENT_COLUMNS if subscribed(session, "customer.created") else (Customer.id,)
        created = insert(
            session,
            Customer.__table__,  # type: ignore[arg-type]
            inserts,
            conflict=["email_normalized"],
            returning=[Customer.__table__.c[column.key] for column in wanted],
        )
        counts.created = len(created)
        emit_for_rows(session, "customer.created", created)
        if growth is not None:
            growth.added(session, len(created))
        if len(created) < len(inserts):
            # Another writer stored some of these addresses since the lookup (the worker
            # filing a new lead's mail, say): those rows meet the stored customer as
            # any row of the file would, instead of being counted and lost.
            ids = {row.id for row in created}
            beaten = [pair for pair, row in zip(new, inserts, strict=True) if row["id"] not in ids]
            stored = _existing(session, [record for _, record in beaten], region)
            gone, more = _sort_out(beaten, stored, policy, region, now, counts)
            updates += more
            counts.rejected += [
                (record.line, "stored and deleted again by someone else meanwhile: import again")
                for _, record in gone
            ]
    counts.updated = len(updates)
    if updates and not dry_run:
        session.execute(update(Customer), updates)
        changed = {
            str(row["id"]): [key for key in row if key not in {"id", "updated_at"}]
            for row in updates
        }
        emit_for_customers(session, "customer.updated", list(changed), changed)
    return counts

"""One row of a customer file checked by the domain's own rules, or the reason it is not."""

from __future__ import annotations

import re
from dataclasses import dataclass

from crm_core.customers.bulk import placeholder_name
from crm_core.errors import ValidationError
from crm_core.normalize import checked_e164_phone, normalize_email, normalize_tags
from crm_core.statuses import CustomerStatus, parse_status
from crm_core.transfer.export import ESCAPED_STARTS
from crm_core.transfer.reading import RawRow

_TAG_SEPARATORS = re.compile(r"[,;]")


@dataclass(frozen=True)
class ImportRecord:
    """A valid row. None means "the file says nothing": the stored value stays."""

    line: int
    customer_id: str | None  # the ID column of an export: the surest match
    name: str
    name_given: bool
    email: str | None
    email_normalized: str | None
    phone: str | None  # E.164 when it is a possible number, as lead emails store it
    company_name: str | None
    address: str | None
    notes: str | None
    tags: list[str] | None
    status: CustomerStatus | None

    @property
    def key(self) -> str:
        """What makes two rows one customer without an ID: the email, else name and phone."""
        if self.email_normalized:
            return "email:" + self.email_normalized
        return f"name:{self.name}\x00{self.phone or ''}"


class RejectedRowError(ValidationError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _cell(value: str) -> str:
    """The cell without the apostrophe an export adds against formula injection."""
    if value.startswith("'") and value[1:].startswith(ESCAPED_STARTS):
        return value[1:]
    return value


def _text(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def check_row(row: RawRow, fields: list[str | None], region: str = "DK") -> ImportRecord:
    """The record of ``row``, or RejectedRowError with the line and what is wrong."""
    if len(row.cells) != len(fields):
        raise RejectedRowError(
            row.line, f"{len(row.cells)} cells where the header has {len(fields)}"
        )
    values: dict[str, str] = {}
    for field, cell in zip(fields, row.cells, strict=True):
        if field is None:
            continue
        if "\x00" in cell:
            raise RejectedRowError(row.line, f"{field}: holds a NUL character")
        values[field] = _cell(cell)
    try:
        return _record(row.line, values, region)
    except ValidationError as exc:
        raise RejectedRowError(row.line, str(exc)) from None


def _record(line: int, values: dict[str, str], region: str) -> ImportRecord:
    email = (values.get("email") or "").strip() or None
    normalized = normalize_email(email) if email else None
    name = " ".join((values.get("name") or "").split())
    if len(name) > 200:
        raise ValidationError("name: longer than 200 characters")
    if not name and normalized is None:
        raise ValidationError("neither a name nor an email")
    phone = checked_e164_phone(values.get("phone"), region)
    company = _text(values.get("company_name"))
    if company is not None and len(company) > 200:
        raise ValidationError("company: longer than 200 characters")
    tags_cell = values.get("tags", "")
    status_cell = values.get("status", "").strip()
    return ImportRecord(
        line=line,
        customer_id=(values.get("id") or "").strip() or None,
        name=name or placeholder_name(normalized or ""),
        name_given=bool(name),
        email=email,
        email_normalized=normalized,
        phone=phone,
        company_name=company,
        address=_text(values.get("address")),
        notes=_text(values.get("notes")),
        tags=normalize_tags(_TAG_SEPARATORS.split(tags_cell)) if tags_cell.strip() else None,
        status=parse_status(CustomerStatus, status_cell.lower()) if status_cell else None,
    )

"""The columns of a customer file: what an export writes and which headers an import reads.

An export writes every field: the ones an import can set, then the read-only ones (ID,
figures, last contact, times), which an import recognises and leaves alone, so that an
export imported again changes nothing. Headers are matched without regard to case,
spaces, hyphens and underscores, in Danish and English ("E-mail", "email", "Telefon").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from crm_core.errors import ValidationError

# Fields an import can set, in the order an export writes them, with their export header.
WRITABLE = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "company_name": "Company",
    "address": "Address",
    "notes": "Notes",
    "tags": "Tags",
    "status": "Status",
}
# The customer's ID: an import matches a row by it first (an export's rows are matched
# exactly, even customers without an email that share a name).
MATCHED = {"id": "ID"}
# Written by an export, recognised and ignored by an import: the database derives them.
READ_ONLY = {
    "aliases": "Aliases",  # addresses of customers merged into this one
    "total_leads": "Leads",
    "total_bookings": "Bookings",
    "total_revenue": "Revenue",
    "last_contact_at": "Last contact",
    "created_at": "Created",
    "updated_at": "Updated",
}
EXPORT_FIELDS: tuple[str, ...] = ("id", *WRITABLE, *READ_ONLY)
EXPORT_HEADERS: tuple[str, ...] = tuple(
    {**MATCHED, **WRITABLE, **READ_ONLY}[key] for key in EXPORT_FIELDS
)

_SYNONYMS: Mapping[str, str] = {
    "navn": "name",
    "name": "name",
    "fuldenavn": "name",
    "fullname": "name",
    "kundenavn": "name",
    "email": "email",
    "emailadresse": "email",
    "mail": "email",
    "emailaddress": "email",
    "telefon": "phone",
    "telefonnummer": "phone",
    "tlf": "phone",
    "mobil": "phone",
    "phone": "phone",
    "phonenumber": "phone",
    "mobile": "phone",
    "adresse": "address",
    "address": "address",
    "firma": "company_name",
    "firmanavn": "company_name",
    "virksomhed": "company_name",
    "company": "company_name",
    "companyname": "company_name",
    "noter": "notes",
    "note": "notes",
    "notes": "notes",
    "bemaerkninger": "notes",
    "tags": "tags",
    "tag": "tags",
    "maerker": "tags",
    "status": "status",
    "id": "id",
    "kundeid": "id",
    "customerid": "id",
}
_READ_ONLY_KEYS = {re.sub(r"[\W_]+", "", header.lower()): key for key, header in READ_ONLY.items()}
_READ_ONLY_KEYS.update({key.replace("_", ""): key for key in READ_ONLY})


def header_key(header: str) -> str:
    """``" E-mail "`` -> ``"email"``; æ, ø and å folded so "Bemærkninger" matches."""
    folded = header.strip().lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    return re.sub(r"[\W_]+", "", folded)


def map_headers(headers: Sequence[str], mapping: Mapping[str, str]) -> list[str | None]:
    """The field each column sets (None: read-only or unknown, ignored).

    ``mapping`` (``--map column=field``) names columns the built-in names miss; it wins.
    A file without a name or email column, or with two columns for one field, is refused.
    """
    explicit = {header_key(column): field for column, field in mapping.items()}
    for column, field in mapping.items():
        if field not in WRITABLE and field not in MATCHED:
            known = ", ".join([*WRITABLE, *MATCHED])
            raise ValidationError(f"--map {column}={field}: unknown field; expected one of {known}")
    fields: list[str | None] = []
    for header in headers:
        key = header_key(header)
        fields.append(explicit.get(key) or _SYNONYMS.get(key))
    seen: dict[str, str] = {}
    for header, mapped in zip(headers, fields, strict=True):
        if mapped is None:
            continue
        field = mapped
        if field in seen:
            raise ValidationError(
                f"columns {seen[field]!r} and {header!r} both give the {field}: "
                "keep one, or name one with --map COLUMN=FIELD"
            )
        seen[field] = header
    if "name" not in seen and "email" not in seen:
        raise ValidationError(
            "the first line names neither a name nor an email column "
            "(Navn/Name, E-mail/Email): add a header line or use --map COLUMN=FIELD"
        )
    return fields


def is_read_only(header: str) -> bool:
    return header_key(header) in _READ_ONLY_KEYS

"""Turning extracted field text into LeadData values: phones, emails, sizes, addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.utils import parseaddr

from crm_core.errors import InvalidEmailError
from crm_core.normalize import normalize_email

# Bounded like the parts of an address (64 before "@", 255 after), so that a search of
# a long line without addresses stays linear.
_EMAIL_CANDIDATE = re.compile(
    r"[^\s<>()\[\]\"',;:@]{1,64}@[^\s<>()\[\]\"',;:@]{1,252}\.[^\s<>()\[\]\"',;:@.]{1,63}"
)
# A number not glued to a preceding letter or "²" (so the "2" of "m2" is no number).
# Danish style: "." groups thousands ("1.200"), "," is the decimal mark ("85,5").
_NUMBER = re.compile(r"(?<![\w²])(\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")


def valid_email(value: str) -> bool:
    try:
        normalize_email(value)
    except InvalidEmailError:
        return False
    return True


def find_email(text: str) -> str | None:
    """The first valid address in ``text`` ("anna@x.dk", "<anna@x.dk>", "mailto:…"), as written."""
    return next(find_emails(text), None)


def find_emails(text: str) -> Iterator[str]:
    """Every valid address in ``text``, in order, as written."""
    for match in _EMAIL_CANDIDATE.finditer(text):
        candidate = match.group().removeprefix("mailto:").rstrip(".")
        if valid_email(candidate):
            yield candidate


def parse_mailbox(text: str) -> tuple[str | None, str | None]:
    """``(name, email)`` from "Anna Jensen <anna@example.com>" or a bare address."""
    name, address = parseaddr(text)
    email = find_email(address) or find_email(text)
    return (" ".join(str(name).split()) or None), email


def parse_int(text: str) -> int | None:
    """The first number in ``text`` as an int: "ca. 85 m²" -> 85, "1.200 m2" -> 1200."""
    match = _NUMBER.search(text)
    if match is None:
        return None
    return int(match.group(1).replace(".", ""))


def join_address(street: str | None, postcode: str | None, city: str | None) -> str | None:
    """Street, postcode and town as one line, without repeating parts.

    ("Vestergade 12", "8000", "Aarhus C") -> "Vestergade 12, 8000 Aarhus C".
    """
    known = (street or "").lower()
    tail = " ".join(part for part in (postcode, city) if part and part.lower() not in known)
    return ", ".join(part for part in (street, tail) if part) or None


def clean_name(text: str | None) -> str | None:
    if not text:
        return None
    name = " ".join(text.split()).strip(" ,;")
    return name or None

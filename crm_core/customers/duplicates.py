"""Suggesting customers that are likely one person, for ``merge_customers``.

A pair is suggested when the two share a phone number (theirs or their leads', the
last eight digits compared), the same name and the same address (letter case and
spacing aside), or addresses whose local parts are equal and whose domains are at
most two edits apart (``gmial.com`` / ``gmail.com``, Damerau-Levenshtein). Merged
customers take no part. Pairs with more reasons come first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import Customer, Lead

DEFAULT_LIMIT = 20
MAX_DOMAIN_EDITS = 2
PHONE_DIGITS = 8  # a Danish number without its country code


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    first: Customer
    second: Customer
    reasons: tuple[str, ...]


def _phone_key(phone: str | None) -> str | None:
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_DIGITS else None


def _text_key(text: str | None) -> str | None:
    folded = " ".join((text or "").casefold().replace(",", " ").split())
    return folded or None


def find_duplicates(
    session: Session, *, limit: int = DEFAULT_LIMIT
) -> tuple[list[DuplicatePair], int]:
    """The ``limit`` likeliest pairs, and how many pairs there are in all.

    Reads five columns of every customer (loading every customer as an object cost
    most of the time) and the phones and addresses of their leads; whole rows are
    loaded for the pairs returned only.
    """
    names: dict[str, str] = {}
    emails: dict[str, str] = {}
    phones: dict[str, set[str]] = defaultdict(set)
    addresses: dict[str, set[str]] = defaultdict(set)
    for customer_id, name, email, phone, address in session.execute(
        select(
            Customer.id, Customer.name, Customer.email_normalized, Customer.phone, Customer.address
        ).where(Customer.merged_into_id.is_(None))
    ):
        names[customer_id] = name
        if email:
            emails[customer_id] = email
        _add(phones, _phone_key(phone), customer_id)
        _add(addresses, _name_and_address(name, address), customer_id)
    for owner, lead_phone, lead_address in session.execute(
        select(Lead.customer_id, Lead.phone, Lead.address).where(Lead.customer_id.is_not(None))
    ):
        if owner is not None and owner in names:
            _add(phones, _phone_key(lead_phone), owner)
            _add(addresses, _name_and_address(names[owner], lead_address), owner)

    reasons: dict[tuple[str, str], list[str]] = defaultdict(list)
    _pairs(reasons, phones.values(), "same phone")
    _pairs(reasons, addresses.values(), "same name and address")
    for pair in _close_addresses(emails):
        reasons[pair].append("addresses one typo apart")

    ranked = sorted(reasons.items(), key=lambda item: (-len(item[1]), names[item[0][0]], item[0]))
    shown = ranked[:limit]
    wanted = sorted({customer_id for pair, _ in shown for customer_id in pair})
    rows = {
        c.id: c for c in session.execute(select(Customer).where(Customer.id.in_(wanted))).scalars()
    }
    pairs = [DuplicatePair(rows[a], rows[b], tuple(why)) for (a, b), why in shown]
    return pairs, len(ranked)


def _add(index: dict[str, set[str]], key: str | None, customer_id: str) -> None:
    if key:
        index[key].add(customer_id)


def _name_and_address(name: str, address: str | None) -> str | None:
    address_key = _text_key(address)
    return f"{_text_key(name)}|{address_key}" if address_key else None


def _pairs(reasons: dict[tuple[str, str], list[str]], groups: Iterable[set[str]], why: str) -> None:
    for group in groups:
        for a, b in combinations(sorted(group), 2):
            if why not in reasons[(a, b)]:
                reasons[(a, b)].append(why)


def _close_addresses(emails: dict[str, str]) -> set[tuple[str, str]]:
    """Pairs with the same local part and domains a typo apart (compared within each
    local part only, so the work grows with the customers, not their square)."""
    by_local: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for customer_id, email in emails.items():
        if "@" in email:
            local, domain = email.rsplit("@", 1)
            by_local[local].append((domain, customer_id))
    found: set[tuple[str, str]] = set()
    for entries in by_local.values():
        for (domain_a, id_a), (domain_b, id_b) in combinations(entries, 2):
            if DamerauLevenshtein.distance(domain_a, domain_b) <= MAX_DOMAIN_EDITS:
                a, b = sorted((id_a, id_b))
                found.add((a, b))
    return found

"""The suppression list: addresses erased with ``--suppress``, held as keyed hashes.

Inbound mail from a suppressed address is filed in the ledger as skipped with the
reason ``suppressed`` (no customer, no message, raw bytes dropped) and no reply is
written to it. The list is read with the hash of the address (crm_core.privacy.keys);
while it is empty the key is never needed, so a CRM without erasures runs without one.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from crm_core.errors import ConflictError, ValidationError
from crm_core.models import Suppression
from crm_core.privacy.keys import AddressHasher
from crm_core.upsert import insert_many_ignore

SUPPRESSED_REASON = "suppressed"


def any_suppressed(session: Session) -> bool:
    return bool(session.execute(select(exists().select_from(Suppression))).scalar())


def suppressed_addresses(
    session: Session, emails: Iterable[str], hasher: AddressHasher | None
) -> set[str]:
    """The addresses among ``emails`` (as given) that are on the suppression list."""
    wanted = list(emails)
    if not wanted or not any_suppressed(session):
        return set()
    if hasher is None:
        raise ConflictError(
            "some addresses are suppressed, but no privacy hash key was given to check them"
        )
    hashes: dict[str, list[str]] = {}
    for email in wanted:
        try:
            hashes.setdefault(hasher(email), []).append(email)
        except ValidationError:
            continue  # not an address: it cannot have been erased either
    found = session.execute(
        select(Suppression.address_hash).where(Suppression.address_hash.in_(sorted(hashes)))
    ).scalars()
    return {email for digest in found for email in hashes[digest]}


def is_suppressed(session: Session, email: str, hasher: AddressHasher | None) -> bool:
    return bool(suppressed_addresses(session, [email], hasher))


def suppress_hashes(session: Session, address_hashes: Iterable[str], erasure_id: str) -> None:
    """Add keyed hashes to the list (one already there stays as it is)."""
    rows = [{"address_hash": h, "erasure_id": erasure_id} for h in sorted(set(address_hashes))]
    if rows:
        insert_many_ignore(
            session,
            Suppression.__table__,  # type: ignore[arg-type]
            rows,
            conflict=["address_hash"],
        )

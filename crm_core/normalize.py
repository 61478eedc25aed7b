"""Normalisation of the values the database compares: email addresses, mailboxes, tags."""

from collections.abc import Iterable
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from crm_core.errors import InvalidEmailError


def mailbox_key(mailbox: str | None) -> str:
    """Mailbox addresses are compared lower-case; '' stands for "not given"."""
    return (mailbox or "").strip().lower()


@lru_cache(maxsize=65_536)
def normalize_email(email: str) -> str:
    """Return the canonical, lower-case form of an address, or raise InvalidEmailError.

    Matching is case-insensitive over the whole address: the local part is case
    sensitive by RFC 5321 but no mail provider our customers use treats it so, and
    one customer typing ``John.Doe@Example.com`` and ``john.doe@example.com`` must
    stay one customer. No DNS lookups: parsing must work offline and be fast. Cached:
    validation is costly and the same addresses recur in every batch of mail.
    """
    candidate = email.strip()
    if not candidate:
        raise InvalidEmailError(email, "empty")
    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidEmailError(email, str(exc)) from None
    return result.normalized.lower()


def normalize_tags(tags: Iterable[str] | None) -> list[str]:
    """Trim, lower-case and de-duplicate tags, keeping first-seen order; drop empties."""
    seen: dict[str, None] = {}
    for tag in tags or ():
        cleaned = " ".join(str(tag).split()).lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)

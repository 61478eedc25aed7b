"""Normalisation of the values the database compares: email addresses, mailboxes, tags."""

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from crm_core.errors import InvalidEmailError, ValidationError

_PHONE_CHARACTERS = re.compile(r"[\d\s+\-().\/]+")

# A plain ASCII address: dot-atom local part of common characters, host labels of
# letters, digits and inner hyphens (none with "--", so no Punycode), a letters-only
# top-level domain. email-validator accepts every such address within the lengths
# below unless its domain is special-use, and its normal form is the address itself.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})",
    re.ASCII,
)
_SPECIAL_USE = tuple(SPECIAL_USE_DOMAIN_NAMES)
# Eight digits, not starting with 0 (00 begins an international number), optionally
# after +45: a possible Danish number whose E.164 form phonenumbers gives as +45 and
# the digits (tests/core/test_normalize_phone.py holds the two ways to the same result).
_PLAIN_DANISH_PHONE = re.compile(r"(?:\+45)?[1-9][0-9]{7}", re.ASCII)


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
    plain = _plain_email(candidate)
    if plain is not None:
        return plain
    try:
        result = validate_email(candidate, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidEmailError(email, str(exc)) from None
    return result.normalized.lower()


def _plain_email(candidate: str) -> str | None:
    """The normal form of an address email-validator would take as it is, without
    asking it (it costs about 100 µs an address, a file import checks every one);
    None for anything else, which then goes to email-validator. The property test in
    tests/core/test_normalize_email.py holds the two ways to identical results."""
    match = _PLAIN_EMAIL.fullmatch(candidate)
    if match is None or len(candidate) > 254 or len(match["local"]) > 64:
        return None
    domain = match["domain"].lower()
    if len(domain) > 253 or "--" in domain:
        return None
    if any(domain == name or domain.endswith("." + name) for name in _SPECIAL_USE):
        return None
    return candidate.lower()


def normalize_tags(tags: Iterable[str] | None) -> list[str]:
    """Trim, lower-case and de-duplicate tags, keeping first-seen order; drop empties."""
    seen: dict[str, None] = {}
    for tag in tags or ():
        cleaned = " ".join(str(tag).split()).lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def checked_phone(phone: str | None, region: str = "DK") -> str | None:
    """The phone number as written (whitespace folded), or None when empty.

    Raises ValidationError unless it is a possible number: ``+45 12 34 56 78``,
    ``12345678`` (Danish by default) and ``+46 8 123 456 78`` pass, ``abc`` does not.
    The text is kept as the user wrote it; lead emails store E.164 themselves.
    """
    text = " ".join((phone or "").split())
    if not text:
        return None
    _possible_number(text, region)
    return text


def _possible_number(text: str, region: str) -> Any:
    """The parsed number; ValidationError unless it is a possible one."""
    import phonenumbers  # imported on use: its metadata is large and most commands skip it

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValidationError(f"invalid phone number {text!r}: use e.g. +45 12 34 56 78")
    return number


@lru_cache(maxsize=65_536)
def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 when the text holds a possible number for ``region``; else the text as written.

    "12 34 56 78" -> "+4512345678" (DK), "0045 12 34 56 78" -> "+4512345678",
    "+46 70 123 45 67" -> "+46701234567", "22 33 44 55 (efter kl. 16)" -> "+4522334455".
    Lead emails and customer imports store phones in this form.
    """
    import phonenumbers  # imported on use, as in checked_phone

    text = " ".join(raw.split())
    if not text:
        return None
    if _PHONE_CHARACTERS.fullmatch(text):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return text
        if phonenumbers.is_possible_number(number):
            return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        return text
    # Text around the number ("ring efter kl. 16"): take the first number in it.
    lenient = phonenumbers.Leniency.POSSIBLE
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=lenient):
        return str(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
    return text


def checked_e164_phone(phone: str | None, region: str = "DK") -> str | None:
    """``checked_phone`` in the form lead emails store: E.164 (``+4512345678``).

    One parse instead of two: an import checks and normalises every row's number.
    """
    text = " ".join((phone or "").split())
    if not text:
        return None
    if region == "DK" and _PLAIN_DANISH_PHONE.fullmatch(text):
        return "+45" + text[-8:]
    return _e164(text, region)


@lru_cache(maxsize=65_536)
def _e164(text: str, region: str) -> str:
    """Cached: parsing is the costly part of checking a row, and a file repeats numbers
    (a company's switchboard on every contact). Invalid numbers raise, and are not cached."""
    import phonenumbers

    number = _possible_number(text, region)
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize_domain(domain: str) -> str:
    """The lower-case form of a mail domain (``@Rendetalje.DK`` → ``rendetalje.dk``),
    or ValidationError when no address could be at it."""
    candidate = domain.strip().removeprefix("@")
    try:
        result = validate_email(f"postmaster@{candidate}", check_deliverability=False)
    except EmailNotValidError:
        # The library's reason speaks of "the part after the @-sign": not helpful here.
        raise ValidationError(f"invalid mail domain {domain!r}: expected e.g. example.dk") from None
    return result.domain.lower()

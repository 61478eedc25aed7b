"""Values recognised by their shape when no label names them.

Lead platforms change their templates; a phone number or an address still looks
like one. These finders look only at the lead itself: the lines before the first
footer (signature, platform boilerplate), skipping lines that carry a label we do
not keep ("Lead ID: 48211920", "CVR: 12345678"), so the platform's own details are
never taken for the customer's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import phonenumbers

from worker.mail.leads.meaning import label_meaning
from worker.mail.leads.values import find_emails

# "8000 Aarhus C", "DK-2100 København Ø", "Kongensgade 8, 6700 Esbjerg", "i 2100 København
# Ø": a Danish postcode and town (every word capitalised), with the street before it
# when there is one. It must start a line or follow a comma or "i"/"in", and end the
# line or its clause (a year in a sentence, "i 2024 Hej med dig", is no postcode).
_TOWN = r"[A-ZÆØÅ][a-zæøåé]+(?:[ -][A-ZÆØÅ][a-zæøåé]+)*(?:\s[A-ZÆØÅ]{1,2}\b)?"
_STREET = (
    r"[A-ZÆØÅ][\w.æøå-]*(?:\s[A-ZÆØÅ][\w.æøå-]*)*\s\d{1,4}[A-Za-z]?"
    r"(?:,?\s\d{1,2}\.?\s?(?:tv|th|mf|sal)\.?)?"
)
POSTCODE_TOWN = re.compile(
    rf"(?:(?P<street>{_STREET}),\s*|^|,\s*|\b(?:i|in)\s+)(?:DK-?)?(?P<code>[1-9]\d{{3}})\s+"
    rf"(?P<town>{_TOWN})\s*(?:$|[,;.?!)]|\s(?:og|and)\s)"
)
_STREET_LINE = re.compile(rf"{_STREET}\s*,?")
# "120 m2", "120m²", "120 kvm", "ca. 85 kvadratmeter", "1.200 m2".
SIZE = re.compile(
    r"(?<![\w.,])(?P<number>\d{1,3}(?:\.\d{3})+|\d{1,5})(?:,\d+)?\s?"
    r"(?:m2|m²|m\^2|kvm\b|kvadratmeter|sqm\b|square\s+met)",
    re.IGNORECASE,
)
# A line of a lead is short; longer ones (a pasted text, hostile mail) are not searched,
# which also keeps every search below linear in the size of the body.
MAX_LINE_CHARS = 300
_BEFORE_FIRST_DIGIT = re.compile(r"^[^\d]*")
_IP_ADDRESS = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")  # "87.61.12.34" reads as a phone
# Lines that hold a company's details rather than a person's.
_COMPANY_LINE = re.compile(r"\b(?:ApS|A/S|I/S|IVS|CVR|SE-nr|EAN)\b|·", re.IGNORECASE)

IsExcluded = Callable[[str], bool]


def candidate_lines(lines: Sequence[str], is_end: Callable[[str], bool]) -> Iterator[str]:
    """The lines of the lead: up to the platform's boilerplate (``is_end``; a notice
    above the lead does not count), company lines and very long lines left out."""
    seen_content = False
    for line in lines:
        if line and seen_content and is_end(line):
            return
        seen_content = seen_content or bool(line)
        if (
            line
            and len(line) <= MAX_LINE_CHARS
            and not _COMPANY_LINE.search(line)
            and not _has_ignored_label(line)
        ):
            yield line


def _has_ignored_label(line: str) -> bool:
    """ "Lead ID: 48211920", "Ordrenr 20231187": a number that is no phone. Only a short
    label counts: "Besked: Pris på 3 timer" is a message that mentions a price."""
    match = _BEFORE_FIRST_DIGIT.match(line)
    prefix = match.group().strip() if match else ""
    label = prefix[:-1] if prefix.endswith(":") else prefix
    if not label or len(label.split()) > (4 if prefix.endswith(":") else 2):
        return False
    meaning = label_meaning(label, max_unknown=1)
    return meaning is not None and meaning.key == "ignore"


def email_by_shape(lines: Sequence[str], excluded: IsExcluded) -> str | None:
    """The first address in ``lines`` that is not excluded (the platform's, ours, a robot's)."""
    for line in lines:
        for email in find_emails(line):
            if not excluded(email):
                return email
    return None


def phone_by_shape(lines: Sequence[str], region: str) -> str | None:
    """The first valid number for ``region`` (or with a country code), in E.164."""
    for line in lines:
        for match in phonenumbers.PhoneNumberMatcher(
            line, region, leniency=phonenumbers.Leniency.VALID
        ):
            if _IP_ADDRESS.fullmatch(match.raw_string.strip()):
                continue
            return str(
                phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            )
    return None


def postcode_town_by_shape(lines: Sequence[str], *, with_street: bool = True) -> str | None:
    """The first "NNNN Town" in ``lines``, as written ("8000 Aarhus C"), with the street
    before it ("Kongensgade 8, 6700 Esbjerg") unless ``with_street`` is false."""
    previous = ""
    for line in lines:
        if (match := POSTCODE_TOWN.search(line)) is not None:
            town = f"{match['code']} {match['town']}"
            street = match["street"]
            if street is None and match.start() == 0 and _STREET_LINE.fullmatch(previous):
                street = previous.rstrip(" ,")  # "Tøjhushaven 4" on the line above
            return f"{street}, {town}" if with_street and street else town
        previous = line
    return None


def size_by_shape(lines: Sequence[str]) -> int | None:
    """The first size in square metres in ``lines``: "120 m2" -> 120."""
    for line in lines:
        if (match := SIZE.search(line)) is not None:
            return int(match["number"].replace(".", ""))
    return None

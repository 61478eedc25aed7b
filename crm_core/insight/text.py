"""What of a message body was written for this message: quoted mail, signatures and
greetings removed; and a normalised form of it in which a name, an amount, a date or an
address is a placeholder, so that two uses of one template compare as equal.

Plain regular expressions, no dependencies: this runs on every stored message.
"""

from __future__ import annotations

import re

# A line that starts the quoted earlier mail (Gmail, Outlook, Apple Mail, in Danish and
# English): everything from it on is not this message's text.
_QUOTE_HEADER = re.compile(
    r"^\s*(?:"
    r"on\b.{0,200}\bwrote:?|den\b.{0,200}\bskrev\b.{0,200}|.{0,200}\bskrev:"
    r"|-{2,}\s*(?:original message|oprindelig meddelelse|forwarded message|videresendt"
    r" meddelelse)\s*-{2,}|(?:from|fra):\s.+@.+|sent from my\b.*|sendt fra min\b.*"
    r")\s*$",
    re.IGNORECASE,
)
# The closing that starts a signature; the line "-- " is the classic delimiter.
_CLOSING = re.compile(
    r"^\s*(?:--\s*|med venlig hilsen\b.*|venlig hilsen\b.*|mvh\b.*|de bedste hilsner\b.*"
    r"|bedste hilsner\b.*|kærlig hilsen\b.*|hilsen\b.*|vh\b.*|kind regards\b.*"
    r"|best regards\b.*|warm regards\b.*|regards\b.*|best wishes\b.*|cheers\b.*)$",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(?:hej|hejsa|hey|hi|hello|kære|dear|goddag|god morgen|good morning)\b[^\n]{0,60}$",
    re.IGNORECASE,
)

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
_DATE = re.compile(
    r"\b\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})?\b"
    r"|\b\d{1,2}\.?\s+(?:jan|feb|mar|apr|maj|may|jun|jul|aug|sep|okt|oct|nov|dec)[a-z]*\.?"
    r"(?:\s+\d{4})?\b",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b(?:kl\.?\s*)?\d{1,2}[:.]\d{2}\b", re.IGNORECASE)
_AMOUNT = re.compile(
    r"\b\d[\d.,\s]*(?:,-|\s*(?:kr\.?|dkk|kroner|eur|€))|(?:kr\.?|dkk)\s*\d[\d.,]*",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\+?\d[\d\s.,-]*\d|\d")
_WEEKDAYS = re.compile(
    r"\b(?:mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag|monday|tuesday|wednesday"
    r"|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)
# A capitalised word that does not start a sentence: a name, a street, a town.
_PROPER = re.compile(r"(?<=[^\s.!?:\n]\s)[A-ZÆØÅ][\wæøåÆØÅ'-]+")
_SPACE = re.compile(r"\s+")


def own_text(body: str) -> str:
    """The lines written for this message: no quoted mail, no signature, no greeting."""
    lines: list[str] = []
    for line in body.splitlines():
        if _QUOTE_HEADER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        if _CLOSING.match(line) and lines:
            break
        lines.append(line)
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and _GREETING.match(lines[0]):
        lines.pop(0)
    return "\n".join(lines).strip()


def with_placeholders(text: str) -> str:
    """``text`` with addresses, links, amounts, dates, times, numbers and names replaced
    by placeholders (``<email>``, ``<amount>``, …), whitespace folded."""
    text = _EMAIL.sub("<email>", text)
    text = _URL.sub("<url>", text)
    text = _AMOUNT.sub("<amount>", text)
    text = _DATE.sub("<date>", text)
    text = _WEEKDAYS.sub("<date>", text)
    text = _TIME.sub("<time>", text)
    text = _NUMBER.sub("<n>", text)
    text = _PROPER.sub("<name>", text)
    return _SPACE.sub(" ", text).strip()


def template_text(body: str) -> str:
    """The normalised body two uses of one template share: own text, placeholders, lower case."""
    return with_placeholders(own_text(body)).lower()

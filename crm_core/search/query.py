"""What a search text asks for: web-search syntax, words, a phone number.

The syntax is PostgreSQL's ``websearch_to_tsquery``: words are all required, a quoted
text is a phrase, ``-word`` excludes, ``OR`` between words offers alternatives. On
PostgreSQL the text goes to the database as it is; this parse serves SQLite, which
has no such function, and the customer search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words as FTS5's unicode61 tokenizer and PostgreSQL's parser see them: letters and
# digits (æ, ø and å included); everything else separates.
_WORD = re.compile(r"\w+", re.UNICODE)
_PIECE = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_PHONE_CHARS = re.compile(r"^[\d\s+\-().\/]+$")

# Danish numbers have eight digits; the part after a country code is what we compare,
# so "+45 12345678", "0045 1234 5678" and "12 34 56 78" are the same number.
NATIONAL_DIGITS = 8
MIN_PHONE_DIGITS = 6


@dataclass(frozen=True)
class Term:
    """One required or excluded word or phrase (a phrase has several words)."""

    words: tuple[str, ...]
    negated: bool = False
    quoted: bool = False
    raw: str = ""  # as typed, without the quotes or the minus

    def websearch(self) -> str:
        """The term alone in web-search syntax (a phrase in quotes)."""
        raw = self.raw.replace('"', " ")
        return f'"{raw}"' if self.quoted else raw


# Alternatives (OR) of conjunctions of terms.
Query = list[list[Term]]


def words_of(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)]


def parse_websearch(text: str) -> Query:
    """``"flytte rengøring" -vinduer OR hovedrengøring`` →
    [[flytte rengøring, NOT vinduer], [hovedrengøring]]."""
    groups: Query = [[]]
    for match in _PIECE.finditer(text):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and bare == "OR":
            if groups[-1]:
                groups.append([])
            continue
        if bare is not None:
            negated = "-" if bare.startswith("-") and len(bare) > 1 else ""
            bare = bare[1:] if negated else bare
        raw = phrase if phrase is not None else bare or ""
        words = tuple(words_of(raw))
        if words:
            term = Term(words, negated=bool(negated), quoted=phrase is not None, raw=raw)
            groups[-1].append(term)
    # A group of exclusions alone finds nothing on its own: PostgreSQL drops it too.
    return [group for group in groups if any(not term.negated for term in group)]


def phone_digits(text: str) -> str | None:
    """The national digits when the text is a phone number in any spelling, else None."""
    if not _PHONE_CHARS.match(text.strip()):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    return digits[-NATIONAL_DIGITS:]

"""When a typed word counts as a stored word misspelt, on both databases.

A word of three letters or more is found in a customer's text when the text holds it
as written (a fragment: "hans" in "hansen", "ergaard" in "østergaard") or holds a word
within a few edits of it: one for a word of up to seven letters ("Mete" → Mette, "Tna"
→ Tina, "Nielen" → Nielsen), two for longer ones ("Frderksen" → Frederiksen). An edit
is a letter left out, added or changed, or two neighbours swapped ("Sofei" → Sofie):
the optimal string alignment distance. Two edits would make common names of six
letters one another's misspellings (Hansen, Jensen, Larsen). A word that some customer
holds as written is taken as meant: "Hansen" does not also find Jensen.

PostgreSQL finds the candidates among the distinct words of all customers
(``customer_search_words``, migration 0019); SQLite checks the words of each candidate
customer. Both keep the same words, with this module's rule.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

MIN_LETTERS = 3  # shorter words are matched as written only
SHORT_WORD = 7  # up to this many letters one edit is allowed, beyond it two

# Runs of letters (æ, ø and å included; digits and punctuation separate), as the
# migration's customer_search_words_of splits a text.
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)


def letter_words(text: str) -> set[str]:
    """The distinct words of ``text`` that a misspelling can be matched to."""
    return {word for word in _LETTERS.findall(text.lower()) if len(word) >= MIN_LETTERS}


def max_edits(word: str) -> int:
    return 1 if len(word) <= SHORT_WORD else 2


def is_fuzzy(word: str) -> bool:
    """Whether misspellings of ``word`` are looked for (letters only, long enough)."""
    return len(word) >= MIN_LETTERS and _LETTERS.fullmatch(word) is not None


def _edits(typed: str, stored: str) -> int:
    """The edits from ``typed`` to ``stored``, or more than allowed when too many."""
    allowed = max_edits(typed)
    return int(OSA.distance(typed, stored, score_cutoff=allowed))


def near(typed: str, stored: str) -> bool:
    """``stored`` is ``typed`` misspelt by at most ``max_edits(typed)`` edits."""
    return _edits(typed, stored) <= max_edits(typed)


def spellings(typed: str, words: set[str] | list[str]) -> list[str]:
    """The words among ``words`` that ``typed`` may stand for, closest first."""
    allowed = max_edits(typed)
    edits = ((_edits(typed, word), word) for word in words)
    return [word for distance, word in sorted(edits) if distance <= allowed]


def misspelt_span(typed: str, text: str) -> tuple[int, int] | None:
    """Where in ``text`` (lower case) the first word that ``typed`` may stand for is."""
    if not is_fuzzy(typed):
        return None
    for match in _LETTERS.finditer(text):
        if len(match.group()) >= MIN_LETTERS and near(typed, match.group()):
            return match.span()
    return None

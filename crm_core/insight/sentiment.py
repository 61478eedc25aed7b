"""The sentiment of a customer's mail: a score from -1 to 1 and a label.

A lexicon method, so it costs microseconds and needs nothing at run time beyond the
installed ``afinn`` package, whose word lists (Finn Årup Nielsen's AFINN: 3,552 Danish
and 3,382 English words and phrases scored -5…+5) are read from the package's own
files, once per process. On top of the lists:

- **Language**: Danish or English by counting common function words, and only that
  language's list is used ("bad" is a bath or "asked" in Danish; "god" is good there).
  When neither wins, both are used.
- **Negation**: a negator ("ikke", "ingen", "not", "no", "n't", "without", …) turns the
  next three words, up to a comma or "men"/"but", into their opposite at 3/4 strength,
  so "ikke tilfreds" and "not happy" are negative and "ingen problemer" is mildly
  positive.
- **Intensifiers** ("meget", "rigtig", "very", "really", …) make the next scored word
  count half again; after "men"/"but" words count 1.5 times and before it half, since
  the clause after "but" is usually the point.
- **Domain adjustments** (``_DOMAIN``): words of requests that AFINN scores positive
  ("tak", "håber", "ønsker", "hjælp", "please", "like") count nothing here, since every
  polite request contains them; a few words of cleaning complaints the lists lack
  ("beskidt", "støvet", "striber", "refund") are added.

The sum is squashed to -1…1 as s / sqrt(s² + 8); at ±0.25 and beyond the label is
positive or negative. Irony, sarcasm, mixed verdicts without "men"/"but" and spelling
mistakes are beyond it; bench/sentiment.py measures it (README "Insight").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from crm_core.insight.text import own_text
from crm_core.statuses import Sentiment

THRESHOLD = 0.25
_SQUASH = 8.0
_NEGATION_SCOPE = 3
_NEGATED = -0.75

_WORD = re.compile(r"[a-zæøåäöüéè]+(?:'[a-z]+)?|[.,;:!?]")
_CLAUSE_END = frozenset(".,;:!?")
_BUT = frozenset({"men", "but", "however", "dog"})
_NEGATORS = frozenset(
    {
        "ikke",
        "ingen",
        "intet",
        "ingenting",
        "ej",
        "hverken",
        "uden",
        "not",
        "no",
        "nothing",
        "neither",
        "nor",
        "without",
        "cannot",
    }
)
_INTENSIFIERS = frozenset(
    {
        "meget",
        "rigtig",
        "virkelig",
        "utrolig",
        "utroligt",
        "vildt",
        "særdeles",
        "yderst",
        "helt",
        "total",
        "totalt",
        "very",
        "really",
        "so",
        "extremely",
        "totally",
        "absolutely",
        "incredibly",
        "truly",
    }
)
_DANISH = frozenset(
    [
        "og",
        "i",
        "jeg",
        "det",
        "er",
        "at",
        "en",
        "et",
        "til",
        "på",
        "vi",
        "har",
        "med",
        "for",
        "de",
        "som",
        "af",
        "kan",
        "vil",
        "var",
        "mig",
        "den",
        "om",
        "jer",
        "hvis",
        "så",
        "ikke",
        "men",
        "hej",
        "tak",
        "mvh",
        "hilsen",
        "være",
        "blev",
        "også",
        "kunne",
        "skal",
        "fra",
        "eller",
        "når",
    ]
)
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "i",
        "is",
        "are",
        "to",
        "we",
        "have",
        "with",
        "for",
        "you",
        "it",
        "was",
        "of",
        "a",
        "an",
        "can",
        "would",
        "please",
        "this",
        "that",
        "not",
        "but",
        "hi",
        "thanks",
        "regards",
        "be",
        "been",
        "also",
        "could",
        "shall",
        "from",
        "or",
        "when",
        "my",
        "our",
    ]
)
# Scores that differ from AFINN in customer mail to a cleaning company (see above).
_DOMAIN: dict[str, dict[str, int]] = {
    "da": {
        "tak": 0,
        "håber": 0,
        "ønsker": 0,
        "ønske": 0,
        "ønsket": 0,
        "ønskes": 0,
        "ønskede": 0,
        "hurtigst": 0,
        "hjælp": 0,
        "hjælpe": 0,
        "venlig": 0,
        "hilsen": 0,
        "gerne": 0,
        "tusind tak": 2,
        "mange tak": 1,
        "beskidt": -2,
        "beskidte": -2,
        "støvet": -2,
        "striber": -2,
        "skjolder": -2,
        "manglede": -2,
        "skuffede": -2,
        "utilfredse": -2,
        "sjusk": -2,
        "refusion": -2,
        "reklamation": -2,
        "reklamere": -2,
        "uprofessionelt": -3,
        "uprofessionel": -3,
        "for sent": -2,
        "aldrig igen": -3,
        "rent": 2,
        "rene": 2,
        "flotte": 3,
        "gode": 3,
        "skinnende": 2,
        "desværre": -1,
    },
    "en": {
        "thanks": 0,
        "thank": 0,
        "hope": 0,
        "help": 0,
        "please": 0,
        "like": 0,
        "kind": 0,
        "thank you so much": 2,
        "many thanks": 1,
        "dusty": -2,
        "streaks": -2,
        "refund": -2,
        "unprofessional": -3,
        "never again": -3,
        "spotless": 3,
        "unfortunately": -1,
        "late": -1,
    },
}


@dataclass(frozen=True, slots=True)
class Score:
    value: float  # -1 … 1
    label: Sentiment


@cache
def _lexicon(language: str) -> dict[str, int]:
    """AFINN's list for ``language`` ("da", "en") with the domain adjustments."""
    name = {"da": "AFINN-da-32.txt", "en": "AFINN-en-165.txt"}[language]
    text = resources.files("afinn").joinpath("data", name).read_text(encoding="utf-8")
    words: dict[str, int] = {}
    for line in text.splitlines():
        word, _, value = line.rpartition("\t")
        if word:
            words[word] = int(value)
    words.update(_DOMAIN[language])
    return words


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'").replace("´", "'"))


def _language(tokens: list[str]) -> tuple[str, ...]:
    danish = sum(token in _DANISH for token in tokens)
    english = sum(token in _ENGLISH for token in tokens)
    if danish > english:
        return ("da",)
    if english > danish:
        return ("en",)
    return ("da", "en")


def _lookup(lexicons: list[dict[str, int]], phrase: str) -> int | None:
    for lexicon in lexicons:
        if phrase in lexicon:
            return lexicon[phrase]
    return None


def raw_sum(text: str) -> float:
    """The weighted sum of the scored words and phrases of ``text``."""
    tokens = _tokens(text)
    lexicons = [_lexicon(language) for language in _language(tokens)]
    total = 0.0
    clause: list[float] = []  # the scores since the last "but"
    seen_but = False
    negation_left = 0
    boost = 1.0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in _CLAUSE_END:
            negation_left, boost = 0, 1.0
            i += 1
            continue
        if token in _BUT:
            total += 0.5 * sum(clause)
            clause, seen_but = [], True
            negation_left, boost = 0, 1.0
            i += 1
            continue
        # The longest phrase first: "tusind tak", "ikke god", "thank you so much".
        for length in (4, 3, 2, 1):
            phrase = " ".join(tokens[i : i + length])
            value = _lookup(lexicons, phrase) if len(tokens) - i >= length else None
            if value is not None:
                break
        else:
            length, value = 1, None
        if value is None:
            if token in _NEGATORS or token.endswith("n't"):
                negation_left = _NEGATION_SCOPE + 1
            elif token in _INTENSIFIERS:
                boost = 1.5
        elif value != 0:
            weighted = value * boost
            if negation_left > 0 and not phrase.startswith(("ikke ", "not ", "no ")):
                weighted *= _NEGATED
            clause.append(weighted)
            boost = 1.0
        i += length
        negation_left = max(0, negation_left - length)
    if seen_but:  # what follows "but" weighs more
        return total + 1.5 * sum(clause)
    return sum(clause)


def score_text(text: str) -> Score:
    """The sentiment of a text as it stands (no quoted mail or signature removed)."""
    raw = raw_sum(text)
    value = round(raw / math.sqrt(raw * raw + _SQUASH), 3)
    if value >= THRESHOLD:
        return Score(value, Sentiment.POSITIVE)
    if value <= -THRESHOLD:
        return Score(value, Sentiment.NEGATIVE)
    return Score(value, Sentiment.NEUTRAL)


def score_message(body: str) -> Score:
    """The sentiment of what the sender wrote in this message (quotes and signature off)."""
    return score_text(own_text(body))

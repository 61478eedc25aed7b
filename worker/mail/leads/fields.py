"""Reading "Label: value" blocks out of lead emails.

Lead platforms and web forms write one field per line, in a handful of layouts that
all occur in practice, often within one mailbox:

    Navn: Anna Jensen            label and value on one line
    Navn                         label alone, value on the next non-empty line
    Anna Jensen
    **Navn:** Anna Jensen        HTML bodies after html2text (bold, links, escapes)
    Navn| Anna Jensen            HTML tables after html2text
    Navn        Anna Jensen      plain-text columns (tab or two or more spaces)
    Navn Anna Jensen             table cells without colons, joined by one space

The last layout is ambiguous ("Opgave er at …" reads like a sentence), so it is
accepted only when the message evidently uses it: at least two different fields
appear in that form and in no other.

A label may carry a unit or a question mark ("Hvor stort er området (m2)?"). Labels
are matched case-insensitively at the start of a line, longest variant first, and the
first occurrence of a field wins (platform footers repeat words such as "Telefon").

Three shapes of value: a single line; a *block* (an address over two lines, ending
at a blank line, though a Danish "8000 Aarhus C" line after the blank still belongs
to it); and *free text* (a message), which runs until the next label or a footer.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import html2text

from worker.mail.leads.labels import LabelTable, label_meaning

# Lines that end a free-text field: sign-offs and rules, which a customer's own text may
# hold too, and the platform's boilerplate (``_BOILERPLATE``), after which nothing is
# the customer's: its phone, address and email there are the platform's own.
_SIGN_OFFS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"[-_=*\s]{3,}",  # horizontal rules: "-----", "* * *", "____"
        r"(?:med\s+)?(?:venlig(?:st)?|bedste)\s+hilsen\b.*",
        r"mvh\.?\b.*",
    )
)
_BOILERPLATE: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"--\s*",  # the signature delimiter
        r"(?:denne|this)\s+(?:e-?mail|mail|besked|message|henvendelse)\b.*",
        r"(?:dette|this)\s+lead\b.*",
        r"du\s+(?:modtager|har\s+modtaget)\b.*",
        r"(?:afmeld|unsubscribe|klik\s+her|click\s+here)\b.*",
        r"(?:sendt|sent)\s+(?:fra|from|via)\b.*",
        r"(?:svar|besvar|kontakt)\s+(?:på|direkte|kunden)\b.*",
        r"powered\s+by\b.*",
    )
)

_MAX_LINES = 2000
_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|td|table|span)\b", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), None)
_TABLE_RULE = re.compile(r"[|:\-\s]+")
_UNIT_OR_QUESTION = re.compile(r"\s*(?:\([^)]*\))?\s*\??\s*")
_DANISH_POSTCODE_LINE = re.compile(r"^(?:DK-?)?\d{4}\s+\S")
_QUOTE_OR_BULLET = re.compile(r"^(?:>\s?)+|^(?:[*•·#]+|-(?!-))\s+")
# "Kilde: Google" – any "Word: value" line, known label or not.
_GENERIC_LABEL = re.compile(r"^[\w .\-/()?]{1,40}:(?:\s|$)")


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # never wrap: a wrapped value would lose its tail
    converter.ignore_images = True
    converter.ignore_emphasis = True
    return str(converter.handle(html))


def body_lines(text: str) -> list[str]:
    """The body as clean lines: markdown and table syntax removed, whitespace trimmed.

    The parser hands us text; if it still looks like HTML (a message whose only
    part was HTML and was passed through unconverted), convert it here.
    """
    if _HTML_HINT.search(text):
        text = html_to_text(text)
    # A lead fits in a screenful; the cap bounds the work on a pathological body.
    lines = text.translate(_INVISIBLE).splitlines()[:_MAX_LINES]
    return [_clean_line(line) for line in lines]


def _clean_line(line: str) -> str:
    line = line.replace("\u00a0", " ").strip()
    line = _QUOTE_OR_BULLET.sub("", line)  # forwarded leads, list items, headings
    line = _MARKDOWN_LINK.sub(r"\1", line)
    line = _EMPHASIS.sub("", line)
    line = _MARKDOWN_ESCAPE.sub(r"\1", line)
    if "|" in line:
        if _TABLE_RULE.fullmatch(line):
            return ""
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        cells = [cell for cell in cells if cell]
        if len(cells) >= 2:
            label = cells[0].rstrip(":").strip()
            return f"{label}: {' '.join(cells[1:])}"
        line = " ".join(cells)
    # Inner runs of spaces are kept: they separate label and value in plain columns.
    return line.strip()


@dataclass(frozen=True, slots=True)
class LabelHit:
    """A line that starts with a label."""

    key: str
    value: str  # the value on the same line; "" when it follows on the next
    label: str  # the label as written
    by_meaning: bool  # read by its words, not found in the label table
    explicit: bool  # a table label, or one followed by a colon: surely a label


@dataclass(frozen=True, slots=True)
class Found:
    """A field's value and what produced it, for ``crm explain``."""

    value: str
    origin: str  # 'label "Kundenavn"', 'label "Kundenavn" (by meaning)', 'shape: …'


class _Labels:
    """The label table compiled for matching, longest variant first, with the
    labels read by meaning (``labels.label_meaning``) behind it.

    ``spaced`` also accepts "Label value" with a single space in between.
    """

    def __init__(self, table: LabelTable, *, spaced: bool = False) -> None:
        self._by_start = _variants_by_start(table)
        self.spaced = spaced

    def match(self, line: str) -> LabelHit | None:
        """The label ``line`` starts with, and the value after it, if any."""
        hit = self._exact(line)
        if hit is not None and (not hit.explicit or hit.key == "name"):
            # A table label may be the start of a longer one: "Address of the job"
            # (spaced, a longer address label), "Name (Last)" (a part of the name).
            longer = _by_meaning(line, spaced=self.spaced)
            if longer is not None and _refines(longer, hit):
                hit = longer
        hit = hit or _by_meaning(line, spaced=self.spaced)
        if hit is not None and hit.value:
            # A table row whose value holds labels of its own ("Navn | Fornavn: Poul").
            inner = _by_meaning(hit.value, spaced=False)
            if inner is not None and inner.explicit and inner.value:
                return inner
        return hit

    def _exact(self, line: str) -> LabelHit | None:
        for variant, key in self._by_start.get(line[:2].lower(), ()):
            if line[: len(variant)].lower() != variant:
                continue
            rest = line[len(variant) :]
            value = _value_after_label(rest, label_ends_with_dot=variant[-1] == ".")
            spaced = value is None and self.spaced and rest[:1] == " " and bool(rest.strip())
            if spaced:
                value = rest.strip()
            if value is not None:
                return LabelHit(key, value, line[: len(variant)], False, not spaced)
        return None


_Index = dict[str, list[tuple[str, str]]]
# Tables are module constants of the source modules: compiled once each. The table
# itself is kept with its index so that its id cannot be reused by another.
_INDEXES: dict[int, tuple[LabelTable, _Index]] = {}


def _variants_by_start(table: LabelTable) -> _Index:
    """Lower-cased variants by their first two letters, longest first, so that a line
    is compared with a few variants only."""
    cached = _INDEXES.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1]
    pairs = [(variant.lower(), key) for key, variants in table.items() for variant in variants]
    index: _Index = {}
    for variant, key in sorted(pairs, key=lambda pair: len(pair[0]), reverse=True):
        index.setdefault(variant[:2], []).append((variant, key))
    if len(_INDEXES) < 64:  # a handful of sources; tables made on the fly are not kept
        _INDEXES[id(table)] = (table, index)
    return index


# "Label: value", "Label : value", "Label:" (value on the next line).
_EXPLICIT_LABEL = re.compile(r"^(?P<label>[^:：]{1,60}?)\s*[:：](?:\s+(?P<value>.*))?$")
# "Label<tab>value" or "Label    value" (plain-text columns).
_COLUMN_LABEL = re.compile(r"^(?P<label>\S.{0,58}?)(?:\t|\s{2,})\s*(?P<value>\S.*)$")
_MAX_LONE_LABEL_WORDS = 5
_MAX_SPACED_LABEL_WORDS = 4
_MAX_LONE_LABEL_CHARS = 120


def _by_meaning(line: str, *, spaced: bool) -> LabelHit | None:
    explicit = _EXPLICIT_LABEL.match(line) or _COLUMN_LABEL.match(line)
    if explicit is not None:
        label = explicit["label"].strip()
        # A question may hold a few words of its own ("Hvor mange kvm skal gøres rent?").
        unknown = 3 if label.endswith("?") else 2
        if (meaning := label_meaning(label, max_unknown=unknown)) is not None:
            return LabelHit(meaning.key, (explicit["value"] or "").strip(), label, True, True)
        return None
    if len(line) > _MAX_LONE_LABEL_CHARS:
        return None
    words = line.split()
    # A question on a line of its own (Typeform) may be longer than a label.
    most = _MAX_LONE_LABEL_WORDS + (3 if line.endswith("?") else 0)
    if len(words) <= most and (meaning := label_meaning(line)) is not None:
        return LabelHit(meaning.key, "", line, True, line.rstrip().endswith("?"))
    if spaced:  # "Kundenavn Søren Ødegaard": the longest run of label words first
        for count in range(min(_MAX_SPACED_LABEL_WORDS, len(words) - 1), 0, -1):
            label = " ".join(words[:count])
            if (meaning := label_meaning(label)) is not None:
                return LabelHit(meaning.key, " ".join(words[count:]), label, True, False)
    return None


def _refines(longer: LabelHit, hit: LabelHit) -> bool:
    """Whether ``longer`` is the same label written out further. Without a colon the
    words added must be lower-case: in "Hvornår Uge 42" or "Besked Vi skal …" they are
    the value's."""
    same = longer.key == hit.key or longer.key in ("first_name", "last_name")
    added = longer.label[len(hit.label) :]
    lower = hit.explicit or added == added.lower()
    return same and len(longer.label) > len(hit.label) and lower


def _uses_spaced_labels(lines: Sequence[str], table: LabelTable) -> bool:
    strict, spaced = _Labels(table), _Labels(table, spaced=True)
    strict_keys: set[str] = set()
    spaced_keys: set[str] = set()
    for line in lines:
        if not line:
            continue
        if (hit := strict.match(line)) is not None:
            strict_keys.add(hit.key)
        elif (hit := spaced.match(line)) is not None:
            spaced_keys.add(hit.key)
    return len(spaced_keys - strict_keys - {"ignore"}) >= 2


def _value_after_label(rest: str, *, label_ends_with_dot: bool) -> str | None:
    """What follows a label, or None if ``rest`` shows it was no label ("Navnet …")."""
    decorated = _UNIT_OR_QUESTION.match(rest)
    has_decoration = bool(decorated and decorated.group().strip())
    tail = rest[decorated.end() :] if decorated else rest
    if not tail.strip():
        return ""
    if tail.lstrip().startswith((":", "：")):
        return tail.lstrip()[1:].strip()
    if rest.startswith(("\t", "  ")):  # plain-text columns
        return rest.strip()
    if label_ends_with_dot and rest[:1].isspace():
        return rest.strip()  # "Tlf. 12 34 56 78"
    if has_decoration and decorated and decorated.group()[-1:].isspace():
        return tail.strip()  # "Areal (m2) 85", "Hvor stort er området? 95"
    return None


def is_footer(line: str, extra: Sequence[re.Pattern[str]]) -> bool:
    """A line that ends a free-text field."""
    return any(p.fullmatch(line) for p in _SIGN_OFFS) or is_lead_end(line, extra)


def is_lead_end(line: str, extra: Sequence[re.Pattern[str]]) -> bool:
    """The platform's boilerplate: the signature delimiter, notices, the source's footers."""
    return any(p.fullmatch(line) for p in _BOILERPLATE) or any(p.match(line) for p in extra)


def extract_fields(
    lines: Sequence[str],
    table: LabelTable,
    *,
    free_text: Collection[str] = ("message",),
    blocks: Collection[str] = ("address",),
    footers: Iterable[str] = (),
) -> dict[str, str]:
    """Map field keys to the values found under their labels (first occurrence wins)."""
    patterns = [re.compile(p, re.IGNORECASE) for p in footers]
    found = find_fields(lines, table, free_text=free_text, blocks=blocks, footers=patterns)
    return {key: item.value for key, item in found.items()}


def find_fields(
    lines: Sequence[str],
    table: LabelTable,
    *,
    free_text: Collection[str] = ("message",),
    blocks: Collection[str] = ("address",),
    footers: Sequence[re.Pattern[str]] = (),
) -> dict[str, Found]:
    """Field keys -> values found under their labels, with the label that gave each.

    ``footers`` are extra patterns (matched at the start of a line) that end a
    free-text field, e.g. a platform's boilerplate; compiled by the caller, once.
    """
    labels = _Labels(table, spaced=_uses_spaced_labels(lines, table))
    found: dict[str, Found] = {}
    index = 0
    while index < len(lines):
        if found and lines[index] and is_lead_end(lines[index], footers):
            break  # what follows is the platform's ("Telefon: 70 20 40 60" of its support)
        hit = labels.match(lines[index]) if lines[index] else None
        index += 1
        if hit is None:
            continue
        if hit.key in free_text:
            value, index = _free_text(lines, index, hit.value, labels, footers)
        elif hit.key in blocks:
            value, index = _block(lines, index, hit.value, labels)
        else:
            value, index = _single(lines, index, hit.value, labels)
        if value and hit.key != "ignore" and hit.key not in found:
            origin = f'label "{_squash(hit.label)}"' + (" (by meaning)" if hit.by_meaning else "")
            found[hit.key] = Found(value, origin)
    return found


def _next_content(lines: Sequence[str], index: int) -> int:
    while index < len(lines) and not lines[index]:
        index += 1
    return index


def _single(lines: Sequence[str], index: int, inline: str, labels: _Labels) -> tuple[str, int]:
    if inline:
        return _squash(inline), index
    nxt = _next_content(lines, index)
    if nxt < len(lines) and not _is_surely_label(lines[nxt], labels):
        return _squash(lines[nxt]), nxt + 1
    return "", index


def _is_surely_label(line: str, labels: _Labels) -> bool:
    """A label that cannot be a value: a lone "Rengøring" under "Type" is the value."""
    hit = labels.match(line)
    return hit is not None and hit.explicit


def _block(lines: Sequence[str], index: int, inline: str, labels: _Labels) -> tuple[str, int]:
    """An address: the first line, then up to two more that carry a number ("2. tv",
    "8000 Aarhus C"); a postcode line may follow a blank line."""
    parts = [_squash(inline)] if inline else []
    if not parts:
        first, index = _single(lines, index, "", labels)
        if not first:
            return "", index
        parts.append(first)
    while index < len(lines) and len(parts) < 3:
        line = lines[index]
        if not line:
            nxt = _next_content(lines, index)
            if nxt >= len(lines) or not _DANISH_POSTCODE_LINE.match(lines[nxt]):
                break
            index, line = nxt, lines[nxt]
        if not _is_address_continuation(line, labels):
            break
        parts.append(_squash(line))
        index += 1
    return ", ".join(parts), index


def _is_address_continuation(line: str, labels: _Labels) -> bool:
    return (
        any(char.isdigit() for char in line)
        and len(line) <= 60
        and labels.match(line) is None
        and not _GENERIC_LABEL.match(line)
    )


def _squash(value: str) -> str:
    return " ".join(value.split())


def _free_text(
    lines: Sequence[str],
    index: int,
    inline: str,
    labels: _Labels,
    extra_footers: Sequence[re.Pattern[str]],
) -> tuple[str, int]:
    collected = [inline] if inline else []
    while index < len(lines):
        line = lines[index]
        if line and (labels.match(line) is not None or is_footer(line, extra_footers)):
            break
        collected.append(line)
        index += 1
    text = "\n".join(collected).strip()
    return re.sub(r"\n{3,}", "\n\n", text), index

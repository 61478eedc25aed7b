"""HTML mail as readable plain text, in time linear in the size of the markup.

html2text does the converting, but the stdlib HTML parser under it takes
quadratic time on some broken markup (unclosed quotes in tags, runs of "<"
without ">"), so a hostile 100 KB message could stall the worker for minutes.
Every tag is therefore rewritten first, by regular expressions that cannot
backtrack, into a bare ``<name>`` or ``</name>``: attributes (URLs, image
sources, styles) are not wanted in the text anyway. Very large markup skips
html2text and is stripped directly.
"""

from __future__ import annotations

import html
import re

import html2text

from worker.mail.charsets import clean

# html2text takes up to a few seconds for this much hostile markup; past it, strip.
MAX_CONVERTED_CHARS = 256 * 1024

# Quoted attribute values may hold ">" but not "<": a tag attempt can then never
# scan past the next "<", which keeps the whole rewrite linear.
_TAG = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9:-]*)(?:[^<>"']|"[^"<]*"|'[^'<]*')*>""")
_DECLARATION = re.compile(r"<[!?][^<>]*>")  # doctype, CDATA opener, processing instructions
_INVISIBLE = ("head", "script", "style", "title")
_CELLS = frozenset({"td", "th"})
_BLOCKS = frozenset(
    {"br", "p", "div", "tr", "li", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BARE_TAG = re.compile(r"<(/?)([a-z][a-z0-9:-]*)>")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(markup: str) -> str:
    """Readable text from HTML: link text kept, URLs, images and markup noise dropped."""
    markup = _bare_tags(_without_comments(markup))
    text = _converted(markup) if len(markup) <= MAX_CONVERTED_CHARS else _stripped(markup)
    text = _TRAILING_SPACE.sub("\n", clean(text).replace("\r", ""))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _without_comments(markup: str) -> str:
    """Drop ``<!-- … -->``; an unclosed comment runs to the end, as in a browser."""
    kept: list[str] = []
    position = 0
    while (start := markup.find("<!--", position)) >= 0:
        kept.append(markup[position:start])
        end = markup.find("-->", start + 4)
        position = len(markup) if end < 0 else end + 3
    kept.append(markup[position:])
    return "".join(kept)


def _bare_tags(markup: str) -> str:
    """Every tag as ``<name>``/``</name>``; every other "<" as text."""
    markup = _DECLARATION.sub("", markup)
    pieces: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        pieces.append(markup[position : match.start()].replace("<", "&lt;"))
        closing, name = match.group(1), match.group(2).lower()
        # Table cells carry form fields ("Navn:" | "Jens"); keep them apart.
        pieces.append(f" <{closing}{name}>" if closing and name in _CELLS else f"<{closing}{name}>")
        position = match.end()
    pieces.append(markup[position:].replace("<", "&lt;"))
    return "".join(pieces)


class _PlainTextConverter(html2text.HTML2Text):
    """html2text tuned to produce plain text rather than Markdown."""

    def __init__(self) -> None:
        super().__init__(bodywidth=0)
        self.ignore_images = True
        self.ignore_links = True  # keeps the link text, drops the URL
        self.ignore_emphasis = True
        self.ignore_tables = True
        self.unicode_snob = True
        self.ul_item_mark = "-"

    def handle_data(self, data: str, entity_char: bool = False) -> None:
        # The entity path skips Markdown escaping ("1\\." and "\\-" are noise here).
        super().handle_data(data, entity_char=True)

    def handle_tag(self, tag: str, attrs: dict[str, str | None], start: bool) -> None:
        if tag in _HEADINGS:
            self.p()  # a heading is a paragraph of its own, without "## "
            return
        super().handle_tag(tag, attrs, start)


def _converted(markup: str) -> str:
    try:
        return str(_PlainTextConverter().handle(markup))
    # The parser underneath has raised on pathological markup before; strip instead.
    except Exception:
        return _stripped(markup)


def _stripped(markup: str) -> str:
    """A plain strip of the bare tags: blocks become line breaks, the rest vanishes."""
    for name in _INVISIBLE:
        markup = _without_element(markup, name)

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        if name in _CELLS:
            return " "
        return "\n" if name in _BLOCKS else ""

    text = html.unescape(_BARE_TAG.sub(replace, markup))
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _without_element(markup: str, name: str) -> str:
    kept: list[str] = []
    position = 0
    while (start := markup.find(f"<{name}>", position)) >= 0:
        kept.append(markup[position:start])
        end = markup.find(f"</{name}>", start)
        position = len(markup) if end < 0 else end + len(name) + 3
    kept.append(markup[position:])
    return "".join(kept)

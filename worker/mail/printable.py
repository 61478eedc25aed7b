"""Text from mail made safe to print on a terminal."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides and marks can reorder what a terminal shows.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def printable(text: str) -> str:
    """``text`` without control characters (escape sequences, bell, bidi overrides);
    tabs and line breaks become spaces."""
    text = _BIDI_CONTROLS.sub("", text)
    return "".join(
        " " if char in "\t\n\r" else char
        for char in text
        if char in "\t\n\r" or unicodedata.category(char) != "Cc"
    )

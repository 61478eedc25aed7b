"""A bounded record of the problems a parse noticed and survived."""

from __future__ import annotations

import re

MAX_DEFECTS = 50
_QUOTE_CHARS = 60


class DefectLog:
    """Collects short defect descriptions, once each, at most ``MAX_DEFECTS``.

    Garbage input can produce a defect per line; the cap keeps the record useful
    instead of letting it grow with the size of the garbage.
    """

    def __init__(self) -> None:
        self._seen: dict[str, None] = {}

    def add(self, description: str) -> None:
        if len(self._seen) < MAX_DEFECTS:
            self._seen.setdefault(description, None)

    def add_stdlib(self, defects: object) -> None:
        """Record the defects the stdlib parser attached to a message part."""
        if not isinstance(defects, list):
            return
        for defect in defects:
            self.add(describe_stdlib_defect(defect))

    def items(self) -> tuple[str, ...]:
        return tuple(self._seen)


def describe_stdlib_defect(defect: object) -> str:
    """``StartBoundaryNotFoundDefect`` -> ``"start boundary not found"``."""
    name = type(defect).__name__.removesuffix("Defect")
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)
    return " ".join(word.lower() for word in words) or "malformed message"


def shortened(text: str) -> str:
    """Offending input cut down to one short line for a defect description."""
    text = " ".join(text.split())
    if len(text) > _QUOTE_CHARS:
        text = text[: _QUOTE_CHARS - 1] + "…"
    return text


def quoted(text: str) -> str:
    """Like ``shortened``, in quotes: for input that may be empty or all spaces."""
    return repr(shortened(text))

"""Option values that Click's types let through: it parses ``nan``, ``inf`` and
``1e308`` as floats, and its ranges do not catch NaN (every comparison is false)."""

from __future__ import annotations

import math

import typer

MAX_SECONDS = 366 * 24 * 3600  # a year: longer waits or ages are typing errors


def seconds(value: float) -> float:
    """Option callback: a finite number of seconds from 0 to a year."""
    if not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise typer.BadParameter(f"expected seconds from 0 to {MAX_SECONDS}, got {value}")
    return value

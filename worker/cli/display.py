"""How amounts and times read on screen: Danish conventions unless configured.

``[display] locale`` (default ``da_DK``) sets the number format: ``3.450,50 kr`` in
Danish, ``3,450.50 kr`` in ``en_GB``; whole amounts drop their øre (``5.000 kr``).
``[display] time_zone`` (default ``Europe/Copenhagen``) is the zone dates are shown
and read in. JSON output is not affected: ISO 8601 UTC times, amounts as strings
(worker/cli/output.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_LOCALE = "da_DK"
DEFAULT_TIME_ZONE = "Europe/Copenhagen"


@dataclass(frozen=True, slots=True)
class Display:
    locale: str = DEFAULT_LOCALE
    time_zone: str = DEFAULT_TIME_ZONE


_current = Display()


def configure(locale: str, time_zone: str) -> None:
    """Set the conventions of this process (the CLI does it when it reads the settings)."""
    global _current
    _current = Display(locale, time_zone)


def current() -> Display:
    return _current


@cache
def zone(name: str) -> tzinfo | None:
    """The named zone, or None when the system has no zone database."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, OSError, ValueError):
        return None


def local_zone() -> tzinfo | None:
    return zone(_current.time_zone)


def money(amount: Decimal | int | float | None, locale: str | None = None) -> str:
    """``3.450,50 kr`` (Danish), ``5.000 kr`` for whole kroner; another locale's
    grouping and decimal marks when configured."""
    from babel.numbers import format_decimal  # only commands that show money load Babel

    value = Decimal(str(amount if amount is not None else 0)).quantize(Decimal("0.01"))
    pattern = "#,##0" if value == value.to_integral_value() else "#,##0.00"
    text = format_decimal(value, format=pattern, locale=locale or _current.locale)
    return f"{text} kr"


def size(count: int) -> str:
    """``512 B``, ``12 KB``, ``3.4 MB``: an attachment's size at a glance."""
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{round(count / 1024)} KB"
    return f"{count / (1024 * 1024):.1f} MB"

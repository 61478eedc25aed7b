"""How the command line shows things: ✅ blocks, tables, dates, kroner and JSON.

Text output is plain fixed-width text (styled by Rich only when stdout is a
terminal), so it reads the same on screen and in a pipe.

JSON output (``--json``) is stable for scripts:

- field names are the model's snake_case attribute names (``total_revenue``,
  ``last_contact_at``, ``company_name`` …);
- datetimes are ISO 8601 in UTC with a ``Z`` suffix and microseconds,
  e.g. ``"2025-09-30T14:30:00.000000Z"``; a missing time is ``null``;
- money (Decimal) is a **string** with two decimals, e.g. ``"5000.00"``, so no
  amount is ever rounded by a float parser;
- statuses are their lower-case values (``"active"``), tags a list of strings.

Terminal safety: names and subjects come from mail, and a sender can put escape
sequences in them that rewrite the operator's terminal (titles, hyperlinks, colours,
cursor moves). The database keeps them faithfully; everything printed passes through
``printable`` here, once, in the helpers every command prints with (``emit``,
``table``, ``field_lines``, ``heading``, ``success``, ``print_error``), and JSON
escapes every control character as ``\\uXXXX``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.text import Text

from worker.cli import display

RULE_CHAR = "━"
RULE = RULE_CHAR * 50
EMPTY = "-"

JsonFlag = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print JSON (snake_case fields, UTC ISO 8601 times, amounts as strings).",
    ),
]

Line = str | Text


# --- time -------------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _fallback_offset(moment: datetime) -> timedelta:
    """Danish time by the EU rule (CEST from the last Sunday of March 01:00 UTC to the
    last Sunday of October 01:00 UTC), for systems without a time zone database."""
    moment = moment.astimezone(UTC)
    start = datetime.combine(_last_sunday(moment.year, 3), datetime.min.time(), UTC)
    end = datetime.combine(_last_sunday(moment.year, 10), datetime.min.time(), UTC)
    summer = start + timedelta(hours=1) <= moment < end + timedelta(hours=1)
    return timedelta(hours=2 if summer else 1)


def _copenhagen() -> tzinfo | None:
    try:
        return ZoneInfo("Europe/Copenhagen")
    except (ZoneInfoNotFoundError, OSError):
        return None


COPENHAGEN = _copenhagen()


def to_local(moment: datetime) -> datetime:
    """The moment in the display time zone, Copenhagen by default (naive when the zone
    database is missing)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if (local := display.local_zone()) is not None:
        return moment.astimezone(local)
    return (moment.astimezone(UTC) + _fallback_offset(moment)).replace(tzinfo=None)


def from_local(naive: datetime) -> datetime:
    """A wall-clock time in the display time zone as an aware datetime."""
    if (local := display.local_zone()) is not None:
        return naive.replace(tzinfo=local)
    guess = naive.replace(tzinfo=UTC) - timedelta(hours=1)
    return naive.replace(tzinfo=UTC) - _fallback_offset(guess)


def format_datetime(moment: datetime | None, empty: str = EMPTY) -> str:
    """``30.09.2025 16:30:00`` in Copenhagen time."""
    if moment is None:
        return empty
    return to_local(moment).strftime("%d.%m.%Y %H:%M:%S")


def parse_local_datetime(value: str) -> datetime:
    """ISO 8601 (``2025-10-01T09:00``, ``…+02:00``) or Danish ``01.10.2025 09:00``.

    A time without an offset is Copenhagen wall-clock time.
    """
    text = value.strip()
    parsed: datetime | None = None
    for pattern in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
        try:
            parsed = datetime.strptime(text, pattern)  # wall-clock time, made aware below
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"not a date and time: {value!r}; use 2025-10-01T09:00 or 01.10.2025 09:00"
            ) from None
    try:
        moment = parsed if parsed.tzinfo is not None else from_local(parsed)
        # Stored in UTC and shown in Copenhagen time: both must exist (not so on the
        # first and last days of the calendar, e.g. 0001-01-01 00:00 is in year 0 UTC).
        moment.astimezone(UTC)
        to_local(moment)
    except OverflowError:
        raise ValueError(
            f"date and time out of range: {value!r}; use a year from 2 to 9998"
        ) from None
    return moment


# --- values -----------------------------------------------------------------------


def format_kr(amount: Decimal | int | float | None) -> str:
    """``3.450,50 kr``, ``5.000 kr``: the configured conventions (worker/cli/display.py)."""
    return display.money(amount)


def text_or_empty(value: object) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or EMPTY
    return str(value)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


# --- terminal safety ----------------------------------------------------------

# Whole escape sequences go, payload included: CSI (ESC [ … final byte); OSC, DCS,
# SOS, PM and APC strings up to BEL or the string terminator; other ESC sequences;
# and their 8-bit C1 forms.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x1b\\|\x9c|$)",
    re.DOTALL,
)
# Line breaks and tabs would break a table row: they become a space.
_LAYOUT = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
# What is left of C0, DEL and C1, and the bidirectional overrides that make text
# display in another order than it reads.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: escape sequences removed whole, line
    breaks and tabs made spaces, any other control character dropped."""
    if text.isprintable():
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _LAYOUT.sub(" ", text)
    return _CONTROL.sub("", text)


def _printable_line(line: Line) -> Line:
    if isinstance(line, str):
        return printable(line)
    clean = printable(line.plain)
    if clean == line.plain:
        return line  # styled spans (e.g. search highlights) stay as they are
    # Characters went, so spans would no longer fit: the line keeps its one style.
    return Text(clean, style=line.style, end=line.end)


# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal still obeys.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape_json_unsafe(text: str) -> str:
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


# --- JSON -------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A value json.dumps writes in the documented format (see module doc)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')):f}"
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, Iterable):
        return [jsonable(item) for item in value]
    return str(value)


def model_dict(obj: object, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A mapped object's columns, by attribute name, in the documented JSON format."""
    skip = set(exclude)
    from sqlalchemy import inspect as sa_inspect  # only commands that print rows load it

    mapper = sa_inspect(obj).mapper
    return {
        attr.key: jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in skip
    }


def json_text(data: Any) -> str:
    """JSON with every control character escaped (json.dumps leaves C1 and bidi raw)."""
    return _escape_json_unsafe(json.dumps(jsonable(data), ensure_ascii=False, indent=2))


def print_json(data: Any) -> None:
    typer.echo(json_text(data))


# --- text -------------------------------------------------------------------------


def _console(stderr: bool = False) -> Console:
    # Built per call so it writes to the current sys.stdout (CliRunner swaps it);
    # no markup or emoji codes: customer data is printed verbatim.
    return Console(stderr=stderr, highlight=False, markup=False, emoji=False, soft_wrap=True)


def emit(lines: Iterable[Line]) -> None:
    console = _console()
    for line in map(_printable_line, lines):
        if console.is_terminal and isinstance(line, Text) and _is_rule(line):
            line = rule(min(len(line.plain), console.width))  # a rule never wraps on screen
        console.print(line)


def _is_rule(line: Text) -> bool:
    return bool(line.plain) and set(line.plain) == {RULE_CHAR}


def print_error(message: str) -> None:
    """One red line on stderr."""
    one_line = " ".join(printable(message).split())
    _console(stderr=True).print(Text(f"Error: {one_line}", style="bold red"))


def rule(width: int = len(RULE)) -> Text:
    return Text(RULE_CHAR * width, style="dim")


def heading(title: str) -> Text:
    return Text(printable(title), style="bold")


def field_lines(fields: Sequence[tuple[str, str]]) -> list[Line]:
    """``ID:      value`` lines, labels padded to one column."""
    if not fields:
        return []
    width = max(len(label) for label, _ in fields) + 2
    return [f"{label + ':':<{width}}{printable(value)}" for label, value in fields]


def block(title: str, fields: Sequence[tuple[str, str]]) -> list[Line]:
    """The seed's block: title, rule, labelled fields, rule."""
    return [heading(title), rule(), *field_lines(fields), rule()]


def success(title: str, fields: Sequence[tuple[str, str]] = ()) -> list[Line]:
    """``✅ title`` and, when there are fields, the ruled block under it."""
    head = Text(f"✅ {printable(title)}", style="bold green")
    if not fields:
        return [head]
    return [head, rule(), *field_lines(fields), rule()]


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    min_widths: Sequence[int] = (),
) -> list[Line]:
    """A left-aligned fixed-width table between rules, like the seed's customer list.

    Columns are at least ``min_widths`` wide and always wide enough for their longest
    value plus two spaces, so nothing is cut off.
    """
    rows = [[printable(cell) for cell in row] for row in rows]  # measured as printed
    widths = []
    for index, header in enumerate(headers):
        longest = max([len(header), *(len(row[index]) for row in rows)])
        minimum = min_widths[index] if index < len(min_widths) else 0
        widths.append(max(minimum, longest + 2))

    def line(cells: Sequence[str]) -> str:
        return "".join(f"{cell:<{width}}" for cell, width in zip(cells, widths, strict=True))

    header_line = line(headers).rstrip()
    body = [line(row).rstrip() for row in rows]
    width = max(len(RULE), len(header_line), *(len(row) for row in body))
    return [rule(width), heading(header_line), rule(width), *body, rule(width)]

"""Reading a customer file as spreadsheets write it, row by row, in constant memory.

- Encoding: UTF-8, UTF-8 with a byte-order mark (Excel's "CSV UTF-8"), Windows-1252
  (Danish Excel's plain "CSV"). A UTF-8 file with a stray Windows-1252 byte further
  down (a pasted line) reads that byte as Windows-1252 instead of failing.
- Separator: sniffed from the header line: the most frequent of ``;`` ``,`` and tab
  outside quotes (Danish Excel writes ``;``, Google Sheets ``,``).
- Refused with one line: binary files (NUL bytes, ZIP workbooks, UTF-16), broken
  quoting (the line where the record starts), cells over 128 KiB. A ragged row (more or
  fewer cells than the header) is a rejected row, not the end of the import.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from crm_core.errors import ValidationError
from crm_core.transfer.columns import is_read_only, map_headers

HEAD_BYTES = 64 * 1024
_FALLBACK = "crm-windows-1252-fallback"


def _windows_1252(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bytes(bad).decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK, _windows_1252)


class FileError(ValidationError):
    """The file cannot be read on (the import stops; committed batches stay)."""


@dataclass(frozen=True)
class RawRow:
    line: int  # where the record starts in the file (1 = the header)
    cells: list[str]


@dataclass(frozen=True)
class FileShape:
    encoding: str  # "UTF-8", "UTF-8 with BOM" or "Windows-1252"
    delimiter: str
    headers: list[str]
    fields: list[str | None]  # the field each column sets; None: ignored

    @property
    def ignored(self) -> list[str]:
        """Columns that are neither a field nor one an export writes (reported once)."""
        return [
            header
            for header, field in zip(self.headers, self.fields, strict=True)
            if field is None and not is_read_only(header)
        ]


def _check_text(head: bytes, name: str) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise FileError(
            f"{name} is a ZIP file (an .xlsx workbook?): save it as CSV and import that"
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileError(f"{name} is UTF-16 text: save it as CSV UTF-8 (or CSV) and import that")
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if b"\x00" in head or (controls > 32 and controls > len(head) // 20):
        raise FileError(f"{name} is not a text file (it holds binary data): import a CSV file")
    if not head.strip(codecs.BOM_UTF8 + b" \r\n\t"):
        raise FileError(f"{name} is empty: a header line and one row per customer expected")


def _encoding(head: bytes) -> tuple[str, str]:
    """(Python codec, name shown to the user)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with BOM"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252", "Windows-1252"
    return "utf-8", "UTF-8"


def _delimiter(header_line: str) -> str:
    counts = {";": 0, ",": 0, "\t": 0}
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class CustomerFile:
    """An open customer file: its shape, its rows, and how far the reading has come."""

    def __init__(self, raw: BinaryIO, name: str, mapping: Mapping[str, str]) -> None:
        self._raw = raw
        self.name = name
        head = raw.read(HEAD_BYTES)
        raw.seek(0)
        _check_text(head, name)
        codec, shown = _encoding(head)
        errors = "replace" if codec == "cp1252" else _FALLBACK
        self._text = io.TextIOWrapper(raw, encoding=codec, errors=errors, newline="")
        header_line = self._text.readline()
        delimiter = _delimiter(header_line)
        headers = next(csv.reader([header_line], delimiter=delimiter), [])
        headers = [header.strip() for header in headers]
        self.shape = FileShape(shown, delimiter, headers, map_headers(headers, mapping))
        self._reader = csv.reader(self._text, delimiter=delimiter, strict=True)

    @property
    def size(self) -> int:
        return _size(self._raw)

    def position(self) -> int:
        """Bytes read so far (for a progress bar)."""
        return self._raw.tell()

    def rows(self) -> Iterator[RawRow]:
        """Each non-empty record after the header, with the line it starts on."""
        line = 1  # the header
        reader = self._reader
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileError(_csv_problem(self.name, start, str(exc))) from None
            line = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            yield RawRow(start, cells)


def _size(raw: BinaryIO) -> int:
    here = raw.tell()
    end = raw.seek(0, io.SEEK_END)
    raw.seek(here)
    return end


def _csv_problem(name: str, line: int, reason: str) -> str:
    if "field larger than field limit" in reason:
        reason = "a cell longer than 128 KiB (a quote that is never closed?)"
    elif "expected after" in reason or "unexpected end of data" in reason:
        reason = f"broken quoting ({reason}): a cell's quotes must be doubled inside it"
    return (
        f"{name}, line {line}: {reason}; the rows before it in committed batches are "
        "imported, nothing after them: fix the file and import it again"
    )


@contextmanager
def open_customer_file(path: Path, mapping: Mapping[str, str]) -> Iterator[CustomerFile]:
    """Open ``path`` for reading; FileError when it is missing, unreadable or not text."""
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise FileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileError(f"{path} is a directory: give a CSV file") from None
    except OSError as exc:
        raise FileError(f"{path}: cannot read it ({exc.strerror})") from None
    with raw:
        yield CustomerFile(raw, str(path), mapping)

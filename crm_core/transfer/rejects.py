"""The error file of an import: each rejected row as it was, with its line and the reason.

Written in the file's own separator, as UTF-8 with a byte-order mark, so it opens in the
spreadsheet the file came from; fix the rows there and import the error file itself
(its two extra columns are ignored).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from crm_core.errors import ValidationError
from crm_core.transfer.export import neutralised


class RejectFile:
    """Opened on the first rejected row: a clean import leaves no error file behind."""

    def __init__(self, path: Path, delimiter: str, headers: Sequence[str]) -> None:
        self.path = path
        self._delimiter = delimiter
        self._headers = list(headers)
        self._out: TextIO | None = None
        self._writer: csv._writer | None = None  # type: ignore[name-defined]
        self.count = 0

    def write(self, line: int, reason: str, cells: Sequence[str]) -> None:
        if self._writer is None:
            try:
                self._out = self.path.open("w", encoding="utf-8-sig", newline="")
            except OSError as exc:
                raise ValidationError(
                    f"{self.path}: cannot write the rejected rows there ({exc.strerror}); "
                    "choose another file with --errors"
                ) from None
            self._writer = csv.writer(self._out, delimiter=self._delimiter)
            self._writer.writerow(["Line", "Reason", *self._headers])
        self._writer.writerow([line, reason, *(neutralised(cell) for cell in cells)])
        self.count += 1

    def close(self) -> None:
        if self._out is not None:
            self._out.close()

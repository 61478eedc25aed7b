"""Customer files written the way spreadsheets write them (we make them here).

- Danish Excel, "CSV (semikolonsepareret)": ``;``, Windows-1252, CRLF.
- Danish Excel, "CSV UTF-8 (kommasepareret)": ``;`` all the same (Excel takes the list
  separator of the Danish locale), UTF-8 with a byte-order mark, CRLF.
- Google Sheets, "Download → CSV": ``,``, UTF-8 without a byte-order mark, CRLF, and
  every row as wide as the widest.
- Tab-separated (copied out of a sheet, or "Download → TSV").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

FLAVOURS = {
    "excel-dk-cp1252": (";", "cp1252"),
    "excel-dk-utf8-bom": (";", "utf-8-sig"),
    "google-sheets": (",", "utf-8"),
    "tsv": ("\t", "utf-8"),
}


def spreadsheet_file(path: Path, flavour: str, rows: Sequence[Sequence[str]]) -> Path:
    delimiter, encoding = FLAVOURS[flavour]
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path

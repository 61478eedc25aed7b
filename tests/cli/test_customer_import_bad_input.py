"""Files an import must refuse or survive: broken quoting, binary data, huge files."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

from crm_core.errors import ValidationError
from crm_core.transfer.reading import FileError, open_customer_file
from tests.cli.conftest import Cli
from worker.cli.customer_transfer import BATCH


def count(cli: Cli) -> int:
    return len(cli("customer", "export", "--format", "jsonl", "-o", "-").splitlines())


def rows_file(path: Path, rows: int, tail: str = "", header: str = "Name,Email") -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header + "\r\n")
        for n in range(rows):
            out.write(f"Kunde {n},k{n}@example.dk\r\n")
        out.write(tail)
    return path


def test_broken_quoting_stops_at_its_line_keeping_whole_batches(cli: Cli, tmp_path: Path) -> None:
    rows = BATCH + 10
    path = rows_file(
        tmp_path / "c.csv", rows, 'Bo "Berg" Hansen,"bo@example.dk"x\r\nLast,l@example.dk\r\n'
    )
    error = cli.fails("customer", "import", str(path))
    assert f"c.csv, line {rows + 2}: broken quoting" in error
    assert "fix the file and import it again" in error
    assert count(cli) == BATCH  # the first batch committed; the rest of the file not
    # Fixed, the file imports the rest and leaves the committed batch as it is.
    fixed = rows_file(tmp_path / "c.csv", rows, "Bo Berg,bo@example.dk\r\n")
    out = cli("customer", "import", str(fixed))
    assert f"11 created, 0 updated, {BATCH} unchanged" in out


def test_a_quote_never_closed_names_the_line_it_opens(cli: Cli, tmp_path: Path) -> None:
    path = rows_file(tmp_path / "c.csv", 3, '"Bo Berg,bo@example.dk\r\nmore,m@example.dk\r\n')
    error = cli.fails("customer", "import", str(path))
    assert "c.csv, line 5: broken quoting" in error
    assert count(cli) == 0  # the batch with the broken record is not written


def test_binary_files_are_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    png = tmp_path / "logo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    assert "logo.csv is not a text file" in cli.fails("customer", "import", str(png))
    workbook = tmp_path / "kunder.xlsx"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert "is a ZIP file (an .xlsx workbook?)" in cli.fails("customer", "import", str(workbook))
    utf16 = tmp_path / "u.csv"
    utf16.write_text("Name,Email\r\nBo,bo@example.dk\r\n", encoding="utf-16")
    assert "is UTF-16 text" in cli.fails("customer", "import", str(utf16))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf\r\n")
    assert "empty.csv is empty" in cli.fails("customer", "import", str(empty))
    assert "no such file" in cli.fails("customer", "import", str(tmp_path / "missing.csv"))
    assert "is a directory" in cli.fails("customer", "import", str(tmp_path))
    assert count(cli) == 0


def test_control_characters_of_a_file_are_not_printed(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("Name,Email\r\nEvil,\x1b]0;pwned\x07x\x1b[2J@\r\n", encoding="utf-8")
    out = cli("customer", "import", str(path))
    assert "1 rejected" in out and "\x1b" not in out and "\x07" not in out


def test_a_large_file_is_read_in_constant_memory_and_a_late_error_names_its_line(
    tmp_path: Path,
) -> None:
    """About 6.5 MB, three times the bound on memory, with a broken record near the end:
    read row by row, never whole."""
    rows = 200_000
    path = rows_file(tmp_path / "big.csv", rows, 'x,"y\r\n')
    assert path.stat().st_size > 6_000_000
    tracemalloc.start()
    seen = 0
    try:
        with open_customer_file(path, {}) as source:
            for _ in source.rows():
                seen += 1
    except FileError as exc:
        message = str(exc)
    else:
        raise AssertionError("the unclosed quote was not reported")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seen == rows
    assert f"big.csv, line {rows + 2}: broken quoting" in message
    assert peak < 2_000_000, f"peak {peak:,} bytes"
    assert isinstance(FileError(""), ValidationError)


def test_an_error_file_that_cannot_be_written_is_one_line(cli: Cli, tmp_path: Path) -> None:
    path = rows_file(tmp_path / "c.csv", 2, "no address here,nope\r\n")
    missing = tmp_path / "nowhere" / "errors.csv"
    assert "no such directory" in cli.fails(
        "customer", "import", str(path), "--errors", str(missing)
    )
    assert count(cli) == 0  # refused before any batch
    unwritable = tmp_path / "errors-dir"
    unwritable.mkdir()  # a directory where the error file should be
    error = cli.fails("customer", "import", str(path), "--errors", str(unwritable))
    assert "is a directory; give a file name" in error
    assert "Traceback" not in error

"""The first line of each customer key in a file, kept on disk so memory stays flat.

Duplicates inside a file are resolved in favour of the first row. A file of many
millions of rows would not fit a set in memory, so the keys go to a temporary SQLite
file (the standard library's, not the CRM database), deleted when the import ends.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType


class FirstSeen:
    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="crm-import-")
        self._db = sqlite3.connect(Path(self._folder.name) / "keys.db")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    def first_lines(self, keyed: Iterable[tuple[str, int]]) -> dict[str, int]:
        """Record ``(key, line)`` pairs; returns the line of each key an earlier call saw.

        (Duplicates within one call are the caller's to see; the first line is kept.)
        """
        batch: dict[str, int] = {}
        earlier: dict[str, int] = {}
        for key, line in keyed:
            batch.setdefault(key, line)
        keys = list(batch)
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            for key, line in self._db.execute(
                f"SELECT key, line FROM seen WHERE key IN ({marks})",  # noqa: S608 (only ?s)
                part,
            ):
                earlier[key] = line
        self._db.executemany("INSERT OR IGNORE INTO seen (key, line) VALUES (?, ?)", batch.items())
        return earlier

    def close(self) -> None:
        self._db.close()
        self._folder.cleanup()

    def __enter__(self) -> FirstSeen:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

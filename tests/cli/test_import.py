"""`crm import mbox` refuses what is not an mbox instead of importing nothing quietly."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from crm_core.models import ReceivedMessage
from tests.cli.conftest import Cli
from tests.conftest import Database
from tests.ingest.test_sample_mailbox import SAMPLES


def staged(database: Database) -> int:
    with database.sessions() as session:
        return session.execute(select(func.count()).select_from(ReceivedMessage)).scalar_one()


def test_a_takeout_archive_is_refused_with_what_to_do(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    archive = tmp_path / "takeout-20251125.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(SAMPLES / "rendetalje.mbox", "Takeout/Mail/All mail.mbox")
    error = cli.fails("import", "mbox", str(archive))
    assert error == (
        "Error: takeout-20251125.zip is a zip archive, not an mbox file: unpack the Takeout "
        "download and import the .mbox file inside it (Takeout/Mail/…)"
    )

    packed = tmp_path / "takeout.tgz"
    packed.write_bytes(gzip.compress((SAMPLES / "rendetalje.mbox").read_bytes()))
    assert "takeout.tgz is a gzip archive" in cli.fails("import", "mbox", str(packed))
    assert staged(database) == 0


def test_a_file_without_a_from_line_is_refused(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Kunder i Aarhus\nFrom: someone@example.net\n", encoding="utf-8")
    error = cli.fails("import", "mbox", str(notes))
    assert error == "Error: notes.txt is not an mbox file: it does not start with a 'From ' line"
    assert staged(database) == 0


def test_an_empty_file_is_an_empty_mailbox(cli: Cli, database: Database, tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.touch()
    assert cli.json("import", "mbox", str(empty))["messages"] == 0

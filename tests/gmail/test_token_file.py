"""The token file is written so that nothing planted in its directory gets the secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from worker.private_file import write_secret_file

SECRET = '{"refresh_token": "1//secret-refresh-token"}'


def test_a_planted_symlink_never_receives_the_secret(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.mkdir(mode=0o700)
    path = tokens / "info@rendetalje.dk.json"
    stolen = tmp_path / "stolen"
    stolen.write_text("")
    # Links at every name a writer might use: the file itself and temporary names
    # made from the file name and this process id.
    planted = [
        path,
        tokens / f".{path.name}.{os.getpid()}.tmp",
        tokens / f".{path.name}.tmp",
        tokens / f"{path.name}.tmp",
    ]
    for link in planted:
        link.symlink_to(stolen)

    write_secret_file(path, SECRET)

    assert stolen.read_text() == ""
    assert not path.is_symlink()
    assert path.read_text() == SECRET
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = {p.name for p in tokens.iterdir()} - {p.name for p in planted}
    assert leftovers == set()  # the temporary file was renamed, not left behind


def test_rewriting_keeps_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "tokens" / "a@b.dk.json"
    write_secret_file(path, "one")
    write_secret_file(path, "two")
    assert path.read_text() == "two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

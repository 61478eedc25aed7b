"""A command imports what it uses: the everyday ones start without Alembic, the job
queue or the Google client (each `crm` call used to import all of them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from worker.cli.main import COMMANDS, load_command

PROBE = """
import os, sys
from worker.cli.main import main
sys.argv = ["crm", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
heavy = os.environ["HEAVY"].split(",")
print(",".join(name for name in heavy if name in sys.modules), file=sys.stderr)
"""


HEAVY = ("alembic", "dramatiq", "googleapiclient", "google_auth_oauthlib")
# What reading one customer or a page of them has no use for: the file import and
# export, the duplicate finder's fuzzy matching, search, replies and the inbox rules.
NOT_FOR_READING = (
    "worker.cli.customer_transfer",
    "worker.cli.conversations",
    "crm_core.transfer",
    "rapidfuzz",
    "crm_core.search",
    "crm_core.replies",
    "crm_core.inbox",
    "crm_core.privacy",
    "snowballstemmer",
)


def _run(tmp_path: Path, *args: str, heavy: tuple[str, ...] = HEAVY) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env["CRM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'crm.db'}"
    env["HEAVY"] = ",".join(heavy)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""


def test_everyday_commands_leave_the_heavy_libraries_alone(tmp_path: Path) -> None:
    # The first command on an empty embedded database migrates it: that one needs Alembic.
    assert "alembic" in _run(tmp_path, "customer", "list")
    assert _run(tmp_path, "customer", "list") == ""
    assert _run(tmp_path, "customer", "create", "Mette Hansen", "mette@example.dk") == ""
    assert _run(tmp_path, "report", "--help") == ""


def test_reading_customers_imports_only_what_it_shows(tmp_path: Path) -> None:
    both = (*HEAVY, *NOT_FOR_READING)
    _run(tmp_path, "customer", "create", "Mette Hansen", "mette@example.dk")  # migrates too
    assert _run(tmp_path, "customer", "get", "mette@example.dk", heavy=both) == ""
    assert _run(tmp_path, "customer", "list", heavy=both) == ""
    assert _run(tmp_path, "customer", "list", "--tag", "vip", heavy=both) == ""
    # The commands loaded on use are still there.
    assert _run(tmp_path, "customer", "export", "-o", "-") == ""
    assert _run(tmp_path, "customer", "bulk", "tag", "add", "vip", "--dry-run") == ""


HELP_PROBE = """
import sys
from worker.cli.main import main
sys.argv = ["crm", "--help"]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
loaded = [name for name in sys.modules
          if name.split(".")[0] in ("sqlalchemy", "pydantic", "pydantic_settings", "psycopg")
          or name.startswith(("crm_core.models", "worker.config", "worker.cli.customers"))]
print(",".join(loaded), file=sys.stderr)
"""


def test_help_lists_every_command_without_importing_any(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HELP_PROBE],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("CRM_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    for name in COMMANDS:
        assert name in result.stdout


def test_the_listed_help_line_is_the_command_docstrings_first_line() -> None:
    for name, lazy in COMMANDS.items():
        command = load_command(name, lazy)
        assert command.help is not None
        assert command.help.strip().splitlines()[0] == lazy.help, name

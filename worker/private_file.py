"""Files only their owner may read: token files, and what the resident server leaves.

Here rather than beside the Gmail credentials, its first user: the resident command
server writes such a file too and must not load Google's libraries to do it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_secret_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp: an unpredictable name opened O_CREAT|O_EXCL|O_NOFOLLOW with mode 0600,
    # so a symlink planted in the directory can never receive the secret.
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # a leftover temporary file keeps its mode
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)

"""Where a user's server listens: one socket per install, in a private directory.

The directory is ``$CRM_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/crm``, else
``/tmp/crm-<uid>``; it is made with mode 0700 and used only if it is a real directory
(not a symlink) owned by this user with no access for others, so no other user can
put a socket of their own in our way. The socket's name has a short hash of the
interpreter and the package directory: two installs (or two checkouts) never share a
server (nor two import paths). Standard library only: the launcher imports this.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

# sockaddr_un.sun_path is 108 bytes on Linux, 104 on the BSDs.
MAX_SOCKET_PATH = 100

PACKAGE_DIRECTORY = Path(__file__).resolve().parents[2]  # the ``worker`` package


class UnsafeDirectoryError(Exception):
    """The runtime directory exists but is not ours alone."""


def runtime_directory() -> Path:
    explicit = os.environ.get("CRM_RUNTIME_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "crm"
    return Path(f"/tmp/crm-{os.getuid()}")  # noqa: S108  (checked: ours, 0700, no symlink)


def install_key() -> str:
    # PYTHONPATH too: the server's modules are found on the path of the call that
    # started it, and a call with another path may mean other code.
    path = os.environ.get("PYTHONPATH", "")
    identity = f"{sys.executable}\0{PACKAGE_DIRECTORY}\0{path}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(identity).hexdigest()[:12]


def checked_directory(create: bool) -> Path | None:
    """The runtime directory, made if ``create`` and missing; None when it is missing.
    Raises UnsafeDirectoryError when it is not private to this user."""
    directory = runtime_directory()
    if create:
        try:
            directory.mkdir(mode=0o700, parents=True)
            os.chmod(directory, 0o700)  # whatever the umask took away
        except FileExistsError:
            pass
    try:
        facts = os.lstat(directory)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(facts.st_mode) or not stat.S_ISDIR(facts.st_mode):
        raise UnsafeDirectoryError(f"{directory} is not a directory")
    if facts.st_uid != os.getuid():
        raise UnsafeDirectoryError(f"{directory} belongs to another user")
    if stat.S_IMODE(facts.st_mode) != 0o700:
        raise UnsafeDirectoryError(f"{directory} must have mode 0700")
    return directory


def socket_path(directory: Path) -> Path:
    return directory / f"server-{install_key()}.sock"


def usable_socket_path(directory: Path) -> Path | None:
    """The socket's path, or None when it is too long for a Unix socket address: then
    no server can listen there, and none is started."""
    path = socket_path(directory)
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def lock_path(directory: Path) -> Path:
    """Held (flock) by the one server of this install while it listens."""
    return directory / f"server-{install_key()}.lock"


def last_exit_path(directory: Path) -> Path:
    """Why this install's last server ended (written by the server as it ends)."""
    return directory / f"server-{install_key()}.last-exit.json"

"""Is the code on disk still the code the server imported?

A server that kept serving after ``git pull`` or an edit would run old code. Before
each command it compares the modification time and size of the files it took a
snapshot of: every ``.py`` file of the project's packages (new and deleted ones
count too) and the file of every other module it has loaded (an upgraded library).
The project's files are listed before the server imports anything, so a file changed
during its start-up counts as changed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from worker.cli.resident.paths import PACKAGE_DIRECTORY

PROJECT_PACKAGES = ("worker", "crm_core", "migrations")

Signature = tuple[int, int]  # st_mtime_ns, st_size


def _signature(path: str) -> Signature | None:
    try:
        facts = os.stat(path)
    except OSError:
        return None
    return facts.st_mtime_ns, facts.st_size


def _python_files(root: str) -> Iterable[str]:
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                yield from _python_files(entry.path)
        elif entry.name.endswith(".py"):
            yield entry.path


def project_roots() -> list[str]:
    parent = PACKAGE_DIRECTORY.parent
    return [str(parent / name) for name in PROJECT_PACKAGES if (parent / name).is_dir()]


class SourceSnapshot:
    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.project = {path: _signature(path) for path in self._project_files()}
        self.libraries: dict[str, Signature | None] = {}

    def _project_files(self) -> Iterable[str]:
        for root in self.roots:
            yield from _python_files(root)

    def add_loaded_modules(self) -> None:
        """The files of the modules loaded since (libraries; project files are
        already listed)."""
        roots = tuple(os.path.join(root, "") for root in self.roots)
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str) and not path.startswith(roots):
                self.libraries.setdefault(path, _signature(path))

    def changed(self) -> str | None:
        """The first file found changed, added or removed, or None."""
        now = set()
        for path in self._project_files():
            now.add(path)
            if path not in self.project or _signature(path) != self.project[path]:
                return path
        for path in self.project.keys() - now:
            return path
        for path, signature in self.libraries.items():
            if _signature(path) != signature:
                return path
        return None


def snapshot() -> SourceSnapshot:
    return SourceSnapshot(project_roots())

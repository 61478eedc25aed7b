"""Whether commands may go to a resident server at all. Standard library only."""

from __future__ import annotations

import os
import socket

OFF = frozenset({"0", "false", "no", "off"})


def resident_enabled() -> bool:
    """``CRM_RESIDENT=0`` (or ``false``, ``no``, ``off``) turns the server off."""
    return os.environ.get("CRM_RESIDENT", "1").strip().lower() not in OFF


def platform_supports_resident() -> bool:
    """fork, Unix sockets, descriptors passed over them, and the peer's uid."""
    return (
        hasattr(os, "fork")
        and hasattr(os, "posix_spawn")
        and hasattr(socket, "AF_UNIX")
        and hasattr(socket, "send_fds")
        and hasattr(socket, "SO_PEERCRED")
    )

"""Terminal and environment state that libraries read once, at import.

The server imports Typer and Rich in its own environment (stdio on /dev/null, the
environment of whichever command started it). A child runs in the caller's, so
what those modules computed from the environment at import is computed again here.
Everything the project prints goes through a Console made per call
(worker/cli/output.py), which sees the caller's descriptors and environment by
itself; Rich's global console is dropped so that it is made again too.
"""

from __future__ import annotations

import os


def redetect() -> None:
    import rich
    from typer import core, rich_utils
    from typer.utils import parse_boolean_env_var

    # typer/rich_utils.py reads these at import.
    width = os.getenv("TERMINAL_WIDTH")
    rich_utils._TERMINAL_WIDTH = width
    rich_utils.MAX_WIDTH = int(width) if width else None
    disable = os.getenv("_TYPER_FORCE_DISABLE_TERMINAL")
    rich_utils._TYPER_FORCE_DISABLE_TERMINAL = disable
    forced = os.getenv("GITHUB_ACTIONS") or os.getenv("FORCE_COLOR") or os.getenv("PY_COLORS")
    rich_utils.FORCE_TERMINAL = False if disable else (True if forced else None)
    # typer/core.py reads this one at import.
    core.HAS_RICH = parse_boolean_env_var(os.getenv("TYPER_USE_RICH"), default=True)
    rich._console = None

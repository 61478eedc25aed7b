"""Commands that run jobs need the configured broker and the job runtime
(``runtime_for`` lives in worker/cli/context.py: a command's commit may send jobs too)."""

from __future__ import annotations

import typer

from worker.cli.context import runtime_for, settings_of

__all__ = ["is_inline", "runtime_for"]


def is_inline(ctx: typer.Context) -> bool:
    return settings_of(ctx).broker.url == "inline"

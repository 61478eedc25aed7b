"""Commands that run jobs need the configured broker and the job runtime."""

from __future__ import annotations

import typer

from worker.cli.context import prepare_embedded_database, settings_of
from worker.jobs.broker import install_broker
from worker.runtime import Runtime, use_settings

_installed: dict[int, Runtime] = {}


def runtime_for(ctx: typer.Context) -> Runtime:
    """The job runtime for the command's settings, with actors bound to the broker."""
    settings = settings_of(ctx)
    key = id(settings)
    if key not in _installed:
        prepare_embedded_database(settings.database)
        runtime = use_settings(settings)
        install_broker(settings)
        _installed[key] = runtime
    return _installed[key]


def is_inline(ctx: typer.Context) -> bool:
    return settings_of(ctx).broker.url == "inline"

"""Commands that run jobs need the configured broker and the job runtime."""

from __future__ import annotations

import typer

from worker.cli.context import CliError, broker_problem, prepare_embedded_database, settings_of
from worker.jobs.broker import install_broker
from worker.observability.logs import redact
from worker.runtime import Runtime, use_settings

_installed: dict[int, Runtime] = {}


def runtime_for(ctx: typer.Context) -> Runtime:
    """The job runtime for the command's settings, with actors bound to the broker."""
    settings = settings_of(ctx)
    key = id(settings)
    if key not in _installed:
        if settings.broker.url != "inline":
            check_broker(settings.broker.url)
        prepare_embedded_database(settings.database)
        runtime = use_settings(settings)
        install_broker(settings)
        _installed[key] = runtime
    return _installed[key]


def check_broker(url: str) -> None:
    """Reach Redis once before any work starts, so that a broker that is down, a wrong
    password or a wrong port is one line up front instead of a failure mid-import."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise CliError(f"cannot use the broker at {redact(url)}: {broker_problem(exc)}") from None
    finally:
        client.close()


def is_inline(ctx: typer.Context) -> bool:
    return settings_of(ctx).broker.url == "inline"

"""What every command shares: the settings, one transaction per command, and errors.

A command does its work in ``with session_for(ctx) as session:``; the block is one
transaction, committed when it ends and rolled back on any error. Services never
commit. Expected failures (bad input, a missing customer, a database that is not
there or not migrated) become one red line on stderr and exit code 1.

Importing this module costs next to nothing: ``crm --help`` needs it, and SQLAlchemy,
pydantic and the configuration are imported by the first command that reads the
settings or opens a session (see bench/cli_startup.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer._click.exceptions import UsageError  # Typer ships its own copy of Click
from typer.core import TyperGroup

from crm_core.errors import CrmError

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from worker.config import DatabaseSettings, Settings
    from worker.runtime import Runtime
    from worker.runtime.registry import JobName

NOT_INITIALISED = "database not initialised: run `crm db upgrade`"
OUT_OF_DATE = "database schema is out of date: run `crm db upgrade`"


class CliError(Exception):
    """A failure the command line reports as one line (exit code 1)."""


@dataclass
class CliState:
    """The context object: the settings are read on first use, not at start-up,
    so ``crm --help`` works whatever the configuration holds."""

    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from worker.cli import display
            from worker.config import load_settings

            self._settings = load_settings(self.config_path)
            display.configure(self._settings.display.locale, self._settings.display.time_zone)
        return self._settings

    @property
    def loaded_database(self) -> DatabaseSettings | None:
        """The database settings if a command has read them (never reads them)."""
        return self._settings.database if self._settings is not None else None


def state(ctx: typer.Context) -> CliState:
    return ctx.ensure_object(CliState)


def settings_of(ctx: typer.Context) -> Settings:
    return state(ctx).settings


# SQLite databases already checked by this process.
_prepared: set[str] = set()


def prepare_embedded_database(database: DatabaseSettings) -> None:
    """First use of the embedded default: a SQLite database without any table is
    migrated to the newest revision. PostgreSQL is never migrated implicitly, and a
    SQLite database that has tables is left alone (``crm db upgrade`` moves it on)."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from crm_core.db import is_sqlite
    from worker.database import engine_for

    if not is_sqlite(database.url):
        return
    path = make_url(database.url).database
    if path in (None, "", ":memory:"):
        return
    key = str(Path(path).resolve())  # a relative URL names a file in the working directory
    if key in _prepared:
        return
    if not inspect(engine_for(database)).get_table_names():
        from migrations import upgrade  # Alembic is imported only when it has work to do

        upgrade(database.url)
    _prepared.add(key)


@contextmanager
def session_for(ctx: typer.Context) -> Iterator[Session]:
    """One transaction on the configured database."""
    from crm_core.db import transaction
    from worker.database import sessions_for

    database = settings_of(ctx).database
    prepare_embedded_database(database)
    with transaction(sessions_for(database)) as session:
        yield session
        from crm_core.webhooks import fan_out_wanted

        announce = fan_out_wanted(session)
    if announce:
        announce_committed_events(ctx)


def announce_committed_events(ctx: typer.Context) -> None:
    """After a commit that wrote webhook events an endpoint waits for: their fan-out
    (and, with the inline broker, the deliveries, here and now)."""
    send_after_commit(ctx, "webhook_fan_out", "webhook events wait for the next sweep")


def send_after_commit(ctx: typer.Context, name: JobName, waiting: str) -> None:
    """Send job ``name`` for work a command has committed. Should the send fail (the
    broker away, say), the command itself succeeded and the work waits for the
    periodic sweep of `crm worker` / `crm watch`: ``waiting`` is logged, one line."""
    from worker.runtime import enqueue, sending

    try:
        runtime_for(ctx)
        with sending():
            enqueue(name)
    except Exception as exc:
        import logging

        logging.getLogger("worker.cli").warning(waiting, extra={"error": repr(exc)[:200]})


_installed: dict[int, Runtime] = {}


def runtime_for(ctx: typer.Context) -> Runtime:
    """The job runtime for the command's settings, with actors bound to the broker."""
    from worker.jobs.broker import install_broker
    from worker.runtime import use_settings

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

    from worker.observability.logs import redact

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        raise CliError(f"cannot use the broker at {redact(url)}: {broker_problem(exc)}") from None
    finally:
        client.close()


def _sqlstate(exc: DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None)
    return code if isinstance(code, str) else None


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(exc.orig).__name__


def _missing_table_message(database: DatabaseSettings | None) -> str:
    """Not initialised, or migrated by an older version (it has an alembic_version)."""
    if database is None:
        return NOT_INITIALISED
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    from worker.database import engine_for

    try:
        with engine_for(database).connect() as connection:
            migrated = inspect(connection).has_table("alembic_version")
    except DBAPIError:
        return NOT_INITIALISED
    return OUT_OF_DATE if migrated else NOT_INITIALISED


def _is_alembic_error(exc: BaseException) -> bool:
    if "alembic" not in sys.modules:
        return False  # never imported by this command, so not what failed
    from alembic.util import CommandError

    return isinstance(exc, CommandError)


def broker_problem(exc: BaseException) -> str:
    """What went wrong talking to Redis, in one line and with any password masked."""
    from worker.observability.logs import redact

    text = " ".join(str(exc).split()) or type(exc).__name__
    refused = "Authentication" in type(exc).__name__  # redis-py's AuthenticationError…
    if refused or "WRONGPASS" in text or "NOAUTH" in text:  # … or the server's own codes
        text += " (check the password in broker.url)"
    return redact(text)


def _is_broker_error(exc: BaseException) -> bool:
    """A Redis or Dramatiq connection failure (only if this command loaded either)."""
    if "redis" in sys.modules:
        import redis

        if isinstance(exc, redis.RedisError):
            return True
    if "dramatiq" in sys.modules:
        import dramatiq.errors

        if isinstance(exc, dramatiq.errors.BrokerConnectionError):
            return True
    return False


def _text_problem(exc: UnicodeError) -> str | None:
    """Bytes that are not UTF-8 (in an argument, a file name or a variable) reach Python
    as lone surrogates, which cannot be encoded again for the database."""
    if isinstance(exc, UnicodeEncodeError) and "surrogates not allowed" in str(exc):
        return "text that is not valid UTF-8 was given; use UTF-8 (check the terminal's locale)"
    return None


def _is_config_error(exc: BaseException) -> bool:
    if "worker.config" not in sys.modules:
        return False  # the settings were never read by this command
    from worker.config import ConfigError

    return isinstance(exc, ConfigError)


def describe_error(exc: BaseException, database: DatabaseSettings | None = None) -> str | None:
    """The one-line message for an expected failure, or None for a bug.

    ``database``, when known, tells a database that was never migrated from one
    that an older version migrated.
    """
    if isinstance(exc, CrmError | CliError) or _is_alembic_error(exc) or _is_config_error(exc):
        return str(exc)
    if _is_broker_error(exc):
        return f"the broker failed: {broker_problem(exc)}; is Redis running and broker.url right?"
    if isinstance(exc, UnicodeError):
        return _text_problem(exc)
    if "sqlalchemy" not in sys.modules:
        return None  # no database was used, so no database error
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

    if not isinstance(exc, DBAPIError):
        return None
    detail = _first_line(exc)
    lowered = detail.lower()
    if _sqlstate(exc) == "42P01" or "no such table" in lowered:
        return _missing_table_message(database)
    if _sqlstate(exc) == "42703" or "no such column" in lowered or "has no column" in lowered:
        return OUT_OF_DATE
    if isinstance(exc, OperationalError) and exc.statement is None:
        return f"cannot connect to the database: {detail}"
    if isinstance(exc, IntegrityError):
        return f"the database refused the change: {detail}"
    return f"database error: {detail}"


def _undecodable_argument(args: list[str]) -> str | None:
    """The first argument whose bytes are not UTF-8 (Python holds them as surrogates)."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return repr(os.fsencode(arg))[1:]  # the bytes, shown as b'\xff…' without the b
    return None


def usage_message(exc: UsageError) -> str:
    """Click's message and where to read more, on one line (instead of its boxed panel)."""
    hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
    if _is_search_for_excluded_word(exc):
        # `crm search -vinduer`: Click takes the excluded word for options (-v -i …).
        hint = "; put -- before a search that starts with -: crm search -- '-vinduer rengøring'"
    return f"{exc.format_message()}{hint}"


def _is_search_for_excluded_word(exc: UsageError) -> bool:
    """A short option Click could not place (``-v`` of ``-vinduer``), in ``crm search``:
    a mistyped long option (``--custmer``) keeps Click's own suggestions."""
    option = str(getattr(exc, "option_name", ""))
    return (
        type(exc).__name__ == "NoSuchOption"
        and exc.ctx is not None
        and exc.ctx.command.name == "search"
        and option.startswith("-")
        and not option.startswith("--")
    )


def _is_help_request(exc: UsageError) -> bool:
    # A group called without a sub-command shows its help: not an error to rewrite.
    return type(exc).__name__ == "NoArgsIsHelpError"


def _print_error(message: str) -> None:
    from worker.cli.output import print_error  # Rich: only when there is an error to show

    print_error(message)


class CrmGroup(TyperGroup):
    """The root command group: turns expected failures of any sub-command into one
    red line and exit code 1, and mistakes in the command line (unknown option, bad
    value, missing argument, bytes that are not UTF-8) into one line and exit code 2
    (also under typer.testing.CliRunner)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        if (bad := _undecodable_argument(args)) is not None:
            _print_error(f"argument {bad} is not valid UTF-8 text; use UTF-8 (check the locale)")
            raise typer.Exit(2)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            if _is_help_request(exc):
                raise
            _print_error(usage_message(exc))
            raise typer.Exit(exc.exit_code) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            if _is_help_request(exc):
                raise
            _print_error(usage_message(exc))
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            database = ctx.obj.loaded_database if isinstance(ctx.obj, CliState) else None
            message = describe_error(exc, database)
            if message is None:
                raise
            _print_error(message)
            raise typer.Exit(1) from None

"""``crm config check``: validate the configuration and show the effective values.

Secrets are masked: SecretStr values, and passwords in URLs. Each check prints one
line; the command exits 1 when any check fails, so it can gate a deployment.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from typing import Any

import typer
from pydantic import SecretStr

from crm_core.db import ping
from worker.cli.context import CliError, settings_of
from worker.cli.output import JsonFlag, emit, heading, print_json
from worker.config import Settings
from worker.database import engine_for
from worker.observability.logs import redact

app = typer.Typer(no_args_is_help=True)
Check = tuple[str, bool, str]


def _masked(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "***" if value.get_secret_value() else ""
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value if value is None or isinstance(value, bool | int | float) else str(value)


def effective_values(settings: Settings) -> dict[str, Any]:
    return {
        name: _masked(getattr(settings, name).model_dump())
        if hasattr(getattr(settings, name), "model_dump")
        else _masked([m.model_dump() for m in getattr(settings, name)])
        for name in type(settings).model_fields
    }


def _try(name: str, probe: Callable[[], str]) -> Check:
    try:
        return name, True, probe()
    except Exception as exc:
        return name, False, redact(f"{type(exc).__name__}: {exc}".splitlines()[0])


def checks(settings: Settings, *, with_mailboxes: bool = True) -> list[Check]:
    from migrations import alembic_config
    from worker.cli.db import current_revisions, head_revisions

    def database() -> str:
        with engine_for(settings.database).connect() as connection:
            ping(connection)
        current, heads = (
            current_revisions(settings.database),
            head_revisions(
                alembic_config(settings.database.url, schema=settings.database.pg_schema)
            ),
        )
        if sorted(current) != sorted(heads):
            raise RuntimeError(f"at {current or 'no revision'}, newest {heads}: crm db upgrade")
        return "reachable, migrations at head"

    def broker() -> str:
        if settings.broker.url == "inline":
            return "inline (jobs run in-process)"
        import redis

        redis.Redis.from_url(settings.broker.url, socket_timeout=3).ping()
        return "redis reachable"

    result = [_try("database", database), _try("broker", broker)]
    if not with_mailboxes:
        return result
    from worker.gmail.credentials import credentials_path

    for mailbox in settings.mailboxes:
        path = mailbox.credentials_file or credentials_path(settings, mailbox.address)

        def credentials(path: Any = path) -> str:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise PermissionError(f"{path} is mode {mode:o}; chmod 600 it")
            return f"{path} (mode 600)"

        result.append(_try(f"credentials {mailbox.address}", credentials))
    if any(m.mode == "push" for m in settings.mailboxes):
        push = settings.push
        oidc = bool(push.audience and push.service_account_email)
        shared = bool(push.shared_token and push.shared_token.get_secret_value())
        result.append(
            (
                "push authentication",
                oidc or shared,
                "OIDC"
                if oidc
                else "shared token"
                if shared
                else "none configured: set push.audience and push.service_account_email",
            )
        )
        result.append(
            (
                "gmail.topic_name",
                bool(settings.gmail.topic_name),
                settings.gmail.topic_name or "required for push mode",
            )
        )
    if settings.gmail.client_secrets_file is not None:
        secrets_file = settings.gmail.client_secrets_file
        result.append(("gmail.client_secrets_file", secrets_file.is_file(), str(secrets_file)))
    return result


@app.command("check")
def check(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Validate the configuration, reach the database and broker, check credentials."""
    settings = settings_of(ctx)
    results = checks(settings)
    values = effective_values(settings)
    if as_json:
        print_json(
            {
                "settings": values,
                "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in results],
            }
        )
    else:
        lines: list[Any] = [heading("Effective configuration")]
        for section, content in values.items():
            if isinstance(content, dict):
                lines.append(f"[{section}]")
                lines += [f"{key} = {json.dumps(value)}" for key, value in content.items()]
            else:
                lines.append(f"{section} = {json.dumps(content)}")
        lines.append(heading("Checks"))
        lines += [f"{'ok  ' if ok else 'FAIL'} {name}: {detail}" for name, ok, detail in results]
        emit(lines)
    if not all(ok for _, ok, _ in results):
        raise typer.Exit(1)


def preflight(settings: Settings) -> None:
    """Fail fast, with one clear line, when a daemon could not work: the database or the
    broker unreachable, or migrations pending."""
    failed = [
        f"{name}: {detail}" for name, ok, detail in checks(settings, with_mailboxes=False) if not ok
    ]
    if failed:
        raise CliError("cannot start: " + "; ".join(failed))

"""Logging set-up: one JSON object per line for daemons, readable lines in a terminal.

Secrets never reach a log line: a filter masks anything shaped like an OAuth token,
a bearer header or a token parameter, in the message and in every extra field. The
code never logs message bodies in the first place; this is the second line of defence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["auto", "json", "text"]

# Attributes every LogRecord has; anything else was passed in ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

_SECRETS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"ya29\.[\w\-.]+"), "***"),  # Google access tokens
    (re.compile(r"1//[\w\-.]+"), "***"),  # Google refresh tokens
    (re.compile(r"(?i)(bearer\s+)[\w\-.~+/=]+"), r"\1***"),
    (
        re.compile(r"(?i)((?:access_|refresh_|id_)?token[\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"),
        r"\1***",
    ),
    (re.compile(r"(?i)(client_secret[\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"), r"\1***"),
    # Passwords in URLs, with or without a user name (redis://:PW@host).
    (re.compile(r"(://[^:/@\s]*:)[^@\s]+(@)"), r"\1***\2"),
    # ... and as a query parameter (postgresql://host/db?password=PW, redis://…?password=).
    (re.compile(r"(?i)([?&](?:password|passwd|pwd)=)[^&#\s\"']+"), r"\1***"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _redact_value(value))
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One event per line: time, level, logger, event, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "pid": record.process,
            **_extras(record),
        }
        if record.exc_info:
            event["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(event, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return line


def configure_logging(fmt: LogFormat = "auto", level: str = "INFO") -> None:
    """Route every logger through one handler on stderr with redaction."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that log request URLs or bodies at DEBUG stay at WARNING.
    for noisy in ("googleapiclient", "google.auth", "urllib3", "httplib2", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

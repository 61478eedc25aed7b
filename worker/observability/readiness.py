"""Readiness checks shared by the daemons: can we reach the database and the broker?"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm_core.db import ping


def readiness_checks(sessions: sessionmaker[Session], broker: Any) -> dict[str, str | bool]:
    checks: dict[str, str | bool] = {}
    try:
        with sessions() as session:
            ping(session)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        client = getattr(broker, "client", None)  # Redis; the inline broker has none
        if client is not None:
            client.ping()
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"unreachable: {type(exc).__name__}"
    return checks

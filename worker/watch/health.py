"""Liveness and readiness answers for the push endpoint (``/healthz``, ``/readyz``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)

# Each named check reports True or "ok" when healthy; anything else (False, an error
# description) makes the endpoint not ready.
Readiness = Callable[[], Mapping[str, str | bool]]


def check_readiness(readiness: Readiness) -> tuple[bool, dict[str, object]]:
    """Run the checks: (ready, JSON-able body ``{"ready": …, "checks": {…}}``)."""
    try:
        checks: dict[str, str | bool] = dict(readiness())
    except Exception:
        # A check that crashes means "not ready"; the details go to the log, not to
        # whoever polls the endpoint.
        logger.exception("readiness check failed")
        return False, {"ready": False, "checks": {"readiness": "check failed"}}
    ready = all(_healthy(value) for value in checks.values())
    return ready, {"ready": ready, "checks": checks}


def _healthy(value: str | bool) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "ok")

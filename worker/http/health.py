"""Liveness, readiness and metrics endpoints, for any daemon's HTTP server.

``GET /healthz`` is liveness (200 "ok"); ``GET /readyz`` runs the injected readiness
checks (200 when all pass, else 503; JSON body); ``GET /metrics`` serves what the
injected renderer returns, in Prometheus' text format. The checks and the renderer read
the database, so they run in the thread pool, off the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Each named check reports True or "ok" when healthy; anything else (False, an error
# description) makes the endpoint not ready.
Readiness = Callable[[], Mapping[str, str | bool]]
Metrics = Callable[[], bytes]


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


def health_routes(readiness: Readiness, metrics: Metrics | None = None) -> list[Route]:
    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        ready, report = await run_in_threadpool(check_readiness, readiness)
        return JSONResponse(report, status_code=200 if ready else 503)

    routes = [
        Route(HEALTH_PATH, healthz, methods=["GET"]),
        Route(READY_PATH, readyz, methods=["GET"]),
    ]
    if metrics is not None:
        render = metrics

        async def serve_metrics(request: Request) -> Response:
            body = await run_in_threadpool(render)
            return Response(body, media_type=METRICS_CONTENT_TYPE)

        routes.append(Route(METRICS_PATH, serve_metrics, methods=["GET"]))
    return routes

"""Health and readiness of `crm worker`: a Dramatiq middleware that forks a small
HTTP server next to the worker processes (Dramatiq starts and stops it with them)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import dramatiq
from dramatiq.middleware import Middleware
from starlette.applications import Starlette

from worker.config import load_settings
from worker.http import HttpServer, health_routes
from worker.observability.readiness import readiness_checks


class WorkerHealth(Middleware):
    @property
    def forks(self) -> list[Callable[[], int]]:
        return [serve_worker_health]


def serve_worker_health() -> int:
    """Serve /healthz and /readyz (database and broker) until SIGTERM, within the
    ``[http]`` limits."""
    settings = load_settings()
    from worker.runtime import use_settings

    runtime = use_settings(settings)
    broker = dramatiq.get_broker()
    app = Starlette(routes=health_routes(lambda: readiness_checks(runtime.sessions, broker)))
    server = HttpServer(
        app,
        settings.metrics.host,
        settings.metrics.worker_health_port,
        settings.http,
        name="worker-health",
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    server.start()
    stopped.wait()
    server.stop()
    return 0

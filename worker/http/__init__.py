"""HTTP serving for the daemons: uvicorn with a whole-request deadline, a connection cap
and a bounded shutdown (``[http]`` limits), and the health and metrics endpoints.

Imports neither ``worker.watch`` nor ``worker.observability``: both build on it.
"""

from worker.http.health import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    Metrics,
    Readiness,
    check_readiness,
    health_routes,
)
from worker.http.server import HttpServer

__all__ = [
    "HEALTH_PATH",
    "METRICS_PATH",
    "READY_PATH",
    "HttpServer",
    "Metrics",
    "Readiness",
    "check_readiness",
    "health_routes",
]

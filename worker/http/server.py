"""An ASGI application served by uvicorn in a background thread, within ``[http]`` limits.

The daemons keep their own main loop (ticks, signal handling) and run the HTTP server
beside it: ``start()`` binds the socket at once (port 0 picks a free port, see ``port``)
and serves from a thread; ``stop()`` stops accepting, closes idle connections, lets
requests in progress finish for at most ``http.shutdown_timeout_seconds`` and returns.
uvicorn installs no signal handlers outside the main thread, so SIGTERM stays the
daemon's.

uvicorn's access log is off: it prints the query string, where a push token may be.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from types import TracebackType
from typing import Any, Self

import uvicorn

from worker.config import HttpSettings
from worker.http.guard import GuardedConfig

logger = logging.getLogger("worker.http")

# How long stop() waits beyond the shutdown timeout for the serving thread to end.
_STOP_MARGIN_SECONDS = 2.0


class HttpServer:
    def __init__(
        self, app: Any, host: str, port: int, limits: HttpSettings, *, name: str = "http"
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.limits = limits
        self.name = name
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def start(self) -> Self:
        if self._server is not None:
            return self
        sock = _listen(self.host, self.requested_port)
        config = GuardedConfig(
            self.app,
            limits=self.limits,
            loop="asyncio",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=_whole_seconds(self.limits.shutdown_timeout_seconds),
            h11_max_incomplete_event_size=16 * 1024,  # request line and headers
        )
        server = uvicorn.Server(config)
        self._socket, self._server = sock, server
        self._thread = threading.Thread(
            target=self._serve, args=(server, sock), name=f"{self.name}-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by stop(); a thread has no one else to tell
            self._failure = exc
            logger.exception("%s server stopped unexpectedly", self.name)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.should_exit = True
        if self._thread is not None:
            self._thread.join(self.limits.shutdown_timeout_seconds + _STOP_MARGIN_SECONDS)
            if self._thread.is_alive():
                # Past every bound: cancel what remains rather than hold up the exit.
                server.force_exit = True
                self._thread.join(_STOP_MARGIN_SECONDS)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError(f"{self.name} server not started")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, without a trailing slash."""
        host = self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _whole_seconds(seconds: float) -> int:
    # uvicorn's option is typed int; round up so a short timeout never becomes none.
    return max(1, int(-(-seconds // 1))) if seconds > 0 else 0

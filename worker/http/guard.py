"""uvicorn's HTTP/1.1 protocol with the two guards uvicorn itself lacks.

- **A whole-request deadline.** uvicorn times out idle keep-alive connections but not a
  request in progress, so a client that sends its headers or body one byte every few
  seconds would hold its connection forever (slow-loris). Here every request, headers
  and body together, must arrive within ``request_timeout_seconds`` of the connection's
  opening (or of the previous answer on a kept-alive connection); otherwise it is
  answered 408 and the connection closed. The clock stops once the request is in: the
  application's own time is not the client's fault.
- **A connection cap.** Past ``max_connections`` open connections a new one is answered
  503 and closed at once, before anything of it is read, so a flood of idle
  connections costs one file descriptor each for a moment instead of piling up.
- **A bounded shutdown for slow senders.** When the server stops, a client still sending
  its request gets at most ``shutdown_timeout_seconds`` more, then 408, so dribbling
  clients never hold up a SIGTERM for their whole request deadline.

The limits come from the ``Config`` the server builds (``GuardedConfig``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol

from worker.config import HttpSettings

logger = logging.getLogger("worker.http")

# Written straight to the socket: neither answer belongs to a request h11 has parsed.
_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\n\r\n"
    b"408 Request Timeout\n"
)
_BUSY_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 24\r\n\r\n"
    b"503 Service Unavailable\n"
)


class GuardedConfig(Config):
    """uvicorn's configuration plus the limits the guarded protocol enforces."""

    def __init__(self, app: Any, *, limits: HttpSettings, **kwargs: Any) -> None:
        super().__init__(app, http=GuardedH11Protocol, **kwargs)
        self.limits = limits


class GuardedH11Protocol(H11Protocol):
    config: GuardedConfig

    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        if not isinstance(config, GuardedConfig):
            raise TypeError("GuardedH11Protocol needs a GuardedConfig")
        self.limits = config.limits
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            logger.warning(
                "connection refused: %d connections open (http.max_connections)",
                len(self.connections) - 1,
            )
            self.transport.write(_BUSY_ANSWER)
            self.transport.close()
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._request_in():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Kept alive: the next request has its own deadline (uvicorn's keep-alive
        # timeout closes the connection sooner if nothing comes at all).
        if not self.transport.is_closing() and not self._request_in():
            self._arm()

    def shutdown(self) -> None:
        super().shutdown()
        # A client still sending when the server stops gets what is left of the shutdown
        # timeout, not of its request deadline: it is answered 408 and closed before
        # uvicorn would cancel its request (and log that as an application error).
        if self.transport.is_closing() or self._request_in():
            return
        grace = self.limits.shutdown_timeout_seconds
        if self._deadline is None or self._deadline.when() - self.loop.time() > grace:
            self._arm(grace)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _request_in(self) -> bool:
        """The client has sent a whole request (h11 is past reading it)."""
        return self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED)

    def _arm(self, seconds: float | None = None) -> None:
        self._disarm()
        if seconds is None:
            seconds = self.limits.request_timeout_seconds
        self._deadline = self.loop.call_later(seconds, self._on_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        logger.info("request not complete in time: answered 408, connection closed")
        # Only when no answer to this request has begun; else the answer is cut short.
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self.transport.write(_TIMEOUT_ANSWER)
        self.transport.close()

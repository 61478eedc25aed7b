"""The HTTP endpoint Cloud Pub/Sub pushes Gmail notifications to.

``POST {push.path}``: authenticate (see ``push_auth``), read the push envelope
``{"message": {"data": base64(JSON {"emailAddress", "historyId"}), …}, "subscription": …}``
and hand the mailbox address to ``enqueue_sync``. The sync then runs from the history id
*stored* for the mailbox, not the one in the notification: notifications can arrive late,
twice or out of order, and only the stored id says what has really been imported.

Answers (Pub/Sub treats 102, 200, 201, 202 and 204 as an acknowledgement and redelivers
the message, with backoff, on anything else):

- 204: enqueued; or the mailbox is unknown to ``enqueue_sync`` (it raised LookupError).
  The latter is acknowledged on purpose: retrying cannot make an unconfigured mailbox
  appear, and Pub/Sub would otherwise redeliver the message until its retention runs out.
- 503: ``enqueue_sync`` failed, or Google's certificates are unreachable; worth a retry.
- 400: the envelope is malformed. Pub/Sub redelivers these too, so give the subscription
  a dead-letter topic to catch them.
- 401: no credentials; 403: bad credentials. Nothing is enqueued.
- 411/413: no Content-Length / body over ``max_body_bytes``.

``GET /healthz`` is liveness (200 "ok"); ``GET /readyz`` runs the injected readiness
check (200 when all checks pass, else 503; JSON body).

Nothing secret is logged: request lines are logged without their query string (the
shared token may be in it), and authentication failures only by reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import socket
import threading
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from worker.config import ConfigError, PushSettings
from worker.observability.metrics import PUSH_REQUESTS
from worker.watch.health import Readiness, check_readiness
from worker.watch.push_auth import (
    CertificatesUnavailableError,
    MissingCredentialsError,
    PushAuthenticator,
    PushAuthError,
)

logger = logging.getLogger(__name__)

# Called with the mailbox address; should only enqueue (the push must be answered
# quickly). Raise LookupError (KeyError, …) for a mailbox that is not configured.
EnqueueSync = Callable[[str], None]

MAX_BODY_BYTES = 64 * 1024
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A slow or stalled client holds a thread; cut it off.
REQUEST_TIMEOUT_SECONDS = 10.0
# Bodies over the limit are read and discarded up to this much, so the client gets its
# 413 instead of a connection reset; beyond it the connection is simply closed.
MAX_DRAIN_BYTES = 1024 * 1024
_SECRET_IN_QUERY = re.compile(r"(token=)[^&\s'\"]*", re.IGNORECASE)


class MalformedEnvelopeError(ValueError):
    """The push body is not a Pub/Sub envelope carrying a Gmail notification."""


def mailbox_from_envelope(body: bytes) -> str:
    """The ``emailAddress`` of the Gmail notification in a Pub/Sub push envelope."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedEnvelopeError("body is not JSON") from None
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict):
        raise MalformedEnvelopeError("no message object")
    data = message.get("data")
    if not isinstance(data, str) or not data:
        raise MalformedEnvelopeError("message has no data")
    try:
        notification = json.loads(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise MalformedEnvelopeError("message data is not base64-encoded JSON") from None
    if not isinstance(notification, dict):
        raise MalformedEnvelopeError("notification is not an object")
    address = notification.get("emailAddress")
    if not isinstance(address, str) or "@" not in address or len(address) > 320:
        raise MalformedEnvelopeError("notification has no emailAddress")
    history_id = notification.get("historyId")
    # Not used (the sync starts from the stored id), but every Gmail notification has one.
    if not (
        (isinstance(history_id, int) and not isinstance(history_id, bool))
        or (isinstance(history_id, str) and history_id.isdigit())
    ):
        raise MalformedEnvelopeError("notification has no historyId")
    return address.strip()


class PushServer:
    """A small threaded HTTP server for the push endpoint and health checks.

    ``start()`` serves in a background thread (port 0 picks a free port: see ``port`` and
    ``url``); ``stop()`` stops accepting, waits for requests in progress and closes the
    socket. Also a context manager.
    """

    def __init__(
        self,
        settings: PushSettings,
        enqueue_sync: EnqueueSync,
        readiness: Readiness,
        authenticator: PushAuthenticator | None = None,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        accept_push: bool = True,
        metrics: Callable[[], bytes] | None = None,
    ) -> None:
        self.metrics = metrics
        # accept_push=False serves only the health endpoints (no mailbox in push mode).
        self.accept_push = accept_push
        self.authenticator = authenticator or PushAuthenticator(settings)
        if accept_push and not self.authenticator.configured:
            raise ConfigError(
                "push endpoint has no authentication: set push.audience and "
                "push.service_account_email (OIDC, preferred) or push.shared_token "
                "(CRM_PUSH_SHARED_TOKEN)"
            )
        reserved = {HEALTH_PATH, READY_PATH, METRICS_PATH}
        if not settings.path.startswith("/") or settings.path in reserved:
            raise ConfigError(
                f"push.path: must start with / and differ from {', '.join(sorted(reserved))}: "
                f"{settings.path!r}"
            )
        self.settings = settings
        self.enqueue_sync = enqueue_sync
        self.readiness = readiness
        self.max_body_bytes = max_body_bytes
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.settings.host, self.settings.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"push-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("push endpoint listening on %s%s", self.url, self.settings.path)
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()  # joins the request threads (block_on_close)
        if self._thread is not None:
            self._thread.join()
            self._thread = None

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
        if self._httpd is None:
            raise RuntimeError("push server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, without a trailing slash."""
        host = self.settings.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def handle_push(self, headers: dict[str, str], query: dict[str, str], body: bytes) -> int:
        """Authenticate and enqueue one push request; the HTTP status to answer."""
        try:
            self.authenticator.authenticate(headers, query)
        except MissingCredentialsError as exc:
            logger.warning("push request refused: %s", exc.reason)
            return HTTPStatus.UNAUTHORIZED
        except PushAuthError as exc:
            logger.warning("push request refused: %s", exc.reason)
            return HTTPStatus.FORBIDDEN
        except CertificatesUnavailableError as exc:
            logger.error("push request not checked: %s", exc)
            return HTTPStatus.SERVICE_UNAVAILABLE
        try:
            address = mailbox_from_envelope(body)
        except MalformedEnvelopeError as exc:
            logger.warning("malformed push envelope: %s", exc)
            return HTTPStatus.BAD_REQUEST
        try:
            self.enqueue_sync(address)
        except LookupError:
            logger.warning("push notification for unknown mailbox %s acknowledged", address)
            return HTTPStatus.NO_CONTENT
        except Exception:
            logger.exception("cannot enqueue the sync of %s; Pub/Sub will retry", address)
            return HTTPStatus.SERVICE_UNAVAILABLE
        logger.debug("sync of %s enqueued", address)
        return HTTPStatus.NO_CONTENT


class _HTTPServer(ThreadingHTTPServer):
    # Request threads are joined on close so stop() lets in-flight pushes finish.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: PushServer) -> None:
        self.app = app
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.exception("push server: unhandled error serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so no idle keep-alive connection delays stop().
    protocol_version = "HTTP/1.0"
    server_version = "crm-push"
    sys_version = ""
    timeout = REQUEST_TIMEOUT_SECONDS
    server: _HTTPServer

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == HEALTH_PATH:
            self._respond(HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
        elif path == READY_PATH:
            ready, report = check_readiness(self.server.app.readiness)
            status = HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE
            self._respond(status, json.dumps(report).encode(), "application/json")
        elif path == METRICS_PATH and self.server.app.metrics is not None:
            self._respond(HTTPStatus.OK, self.server.app.metrics(), METRICS_CONTENT_TYPE)
        elif path == self.server.app.settings.path:
            self._respond(HTTPStatus.METHOD_NOT_ALLOWED, extra_headers={"Allow": "POST"})
        else:
            self._respond(HTTPStatus.NOT_FOUND)

    def do_POST(self) -> None:
        app = self.server.app
        url = urllib.parse.urlsplit(self.path)
        if url.path != app.settings.path or not app.accept_push:
            self._respond(HTTPStatus.NOT_FOUND)
            return
        body = self._read_body(app.max_body_bytes)
        if body is None:
            return
        headers = {name.lower(): value for name, value in reversed(self.headers.items())}
        query = dict(reversed(urllib.parse.parse_qsl(url.query, keep_blank_values=True)))
        status = app.handle_push(headers, query, body)
        PUSH_REQUESTS.labels(str(int(status))).inc()
        extra = {}
        if status == HTTPStatus.UNAUTHORIZED and app.authenticator.oidc_enabled:
            extra["WWW-Authenticate"] = "Bearer"
        self._respond(status, extra_headers=extra)

    def _read_body(self, limit: int) -> bytes | None:
        """The request body, or None after answering an error."""
        if self.headers.get("Transfer-Encoding"):
            self._respond(HTTPStatus.LENGTH_REQUIRED)
            return None
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            self._respond(HTTPStatus.LENGTH_REQUIRED)
            return None
        if not raw_length.strip().isdigit():
            self._respond(HTTPStatus.BAD_REQUEST)
            return None
        length = int(raw_length)
        if length > limit:
            logger.warning("push request body of %d bytes refused (limit %d)", length, limit)
            self._discard(min(length, MAX_DRAIN_BYTES))
            self._respond(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return None
        body = self.rfile.read(length)
        if len(body) != length:
            self._respond(HTTPStatus.BAD_REQUEST)
            return None
        return body

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                return
            length -= len(chunk)

    def _respond(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/plain; charset=utf-8",
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        if not body and status >= 400:
            body = f"{status} {HTTPStatus(status).phrase}\n".encode()
        self.send_response(status)
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        if status != HTTPStatus.NO_CONTENT:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != HTTPStatus.NO_CONTENT:
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The default logs the request line, query string (and shared token) included.
        # path and command are unset when the request line itself was unparseable.
        path = urllib.parse.urlsplit(getattr(self, "path", "") or "").path or "-"
        command = getattr(self, "command", None) or "-"
        logger.debug("%s %s %s %s", self.client_address[0], command, path, code)

    def log_message(self, format: str, *args: Any) -> None:
        # Reached for malformed requests too, whose messages quote the raw request line.
        logger.debug("push server: %s", _SECRET_IN_QUERY.sub(r"\1***", format % args))

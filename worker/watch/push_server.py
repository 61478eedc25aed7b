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
- 411/413: no Content-Length / body over ``http.max_body_bytes``.

``/healthz``, ``/readyz`` and ``/metrics`` are served next to it (``worker.http.health``).
uvicorn serves it all within the ``[http]`` limits (``worker.http``): a whole-request
deadline answered 408, a connection cap answered 503, a bounded shutdown.

Nothing secret is logged: requests are logged without their query string (the shared
token may be in it), and authentication failures only by reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from typing import Self

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from worker.config import ConfigError, HttpSettings, PushSettings
from worker.http import HEALTH_PATH, METRICS_PATH, READY_PATH, HttpServer, Readiness
from worker.http.health import Metrics, health_routes
from worker.observability.metrics import PUSH_REQUESTS
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

MAX_BODY_BYTES = HttpSettings().max_body_bytes
# A body over the limit but under this much is read and discarded after the 413, so the
# client reads its answer instead of a connection reset; a larger one closes the
# connection (within the request deadline either way).
MAX_DRAIN_BYTES = 1024 * 1024


class MalformedEnvelopeError(ValueError):
    """The push body is not a Pub/Sub envelope carrying a Gmail notification."""


def mailbox_from_envelope(body: bytes) -> str:
    """The ``emailAddress`` of the Gmail notification in a Pub/Sub push envelope."""
    try:
        envelope = json.loads(body)
    except RecursionError:  # nesting deeper than the parser's stack: hostile, not JSON
        raise MalformedEnvelopeError("body is nested too deeply") from None
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
    except RecursionError:
        raise MalformedEnvelopeError("message data is nested too deeply") from None
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


class PushServer(HttpServer):
    """The push endpoint and the health endpoints on one port, served by uvicorn.

    ``start()`` serves in a background thread (port 0 picks a free port: see ``port`` and
    ``url``); ``stop()`` stops accepting, lets requests in progress finish (at most
    ``http.shutdown_timeout_seconds``) and closes the socket. Also a context manager.
    """

    def __init__(
        self,
        settings: PushSettings,
        enqueue_sync: EnqueueSync,
        readiness: Readiness,
        authenticator: PushAuthenticator | None = None,
        *,
        accept_push: bool = True,
        metrics: Metrics | None = None,
        limits: HttpSettings | None = None,
    ) -> None:
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
        limits = limits or HttpSettings()
        self.max_body_bytes = limits.max_body_bytes
        routes = health_routes(readiness, metrics)
        if accept_push:
            routes.append(Route(settings.path, self._push, methods=["POST"]))
        super().__init__(
            Starlette(routes=routes), settings.host, settings.port, limits, name="push"
        )

    def start(self) -> Self:
        super().start()
        logger.info("push endpoint listening on %s%s", self.url, self.settings.path)
        return self

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

    async def _push(self, request: Request) -> Response:
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        # The first of repeated headers and query parameters counts.
        headers = {name: value for name, value in reversed(request.headers.items())}
        query = dict(reversed(urllib.parse.parse_qsl(request.url.query, keep_blank_values=True)))
        # Authentication may fetch Google's certificates and enqueueing talks to the
        # broker: both block, so they run in the thread pool.
        status = await run_in_threadpool(self.handle_push, headers, query, body)
        PUSH_REQUESTS.labels(str(int(status))).inc()
        client = request.client.host if request.client else "-"
        logger.debug("%s POST %s %s", client, request.url.path, int(status))
        extra = {}
        if status == HTTPStatus.UNAUTHORIZED and self.authenticator.oidc_enabled:
            extra["WWW-Authenticate"] = "Bearer"
        return _answer(status, extra)

    async def _read_body(self, request: Request) -> bytes | Response:
        """The request body, or the error answer."""
        if "transfer-encoding" in request.headers:
            return _answer(HTTPStatus.LENGTH_REQUIRED)
        raw_length = request.headers.get("content-length")
        if raw_length is None:
            return _answer(HTTPStatus.LENGTH_REQUIRED)
        if not raw_length.strip().isdigit():
            return _answer(HTTPStatus.BAD_REQUEST)
        length = int(raw_length)
        if length > self.max_body_bytes:
            logger.warning(
                "push request body of %.20s bytes refused (limit %d)",
                raw_length.strip(),
                self.max_body_bytes,
            )
            close = {"Connection": "close"} if length > MAX_DRAIN_BYTES else {}
            return _answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, close)
        try:
            return await request.body()
        except ClientDisconnect:  # gone, or cut off at the request deadline
            return _answer(HTTPStatus.BAD_REQUEST)


def _answer(status: int, headers: dict[str, str] | None = None) -> Response:
    if status == HTTPStatus.NO_CONTENT:
        return Response(status_code=status, headers=headers)
    body = f"{status} {HTTPStatus(status).phrase}\n"
    return Response(body, status_code=status, headers=headers, media_type="text/plain")

"""A local HTTP server speaking the Gmail REST API, the batch endpoint and OAuth refresh.

Usage::

    with FakeGmailServer() as server:
        refresh = server.add_user("owner@example.com")
        server.deliver("owner@example.com", raw_bytes)
        creds = server.credentials(refresh)
        service = server.build_service(creds)   # calls *and* batches go to the fake
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from . import client
from .api import GmailApi
from .batch import run_batch
from .faults import Fault, FaultInjector, Quota
from .mailbox import DEFAULT_INITIAL_HISTORY_ID, Mailbox, MailStore, WatchState
from .oauth import (
    DEFAULT_ACCESS_TOKEN_TTL,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SCOPES,
    TokenAuthority,
)
from .protocol import ApiError, ApiRequest, ApiResponse, JsonObj
from .stats import RequestRecord, ServerStats, Usage

_GET_PATH = re.compile(r"/messages/([0-9a-f]+)$")

TOKEN_PATHS = ("/token", "/oauth2/v4/token", "/o/oauth2/token")
DISCOVERY_PATHS = ("/discovery/v1/apis/gmail/v1/rest", "/$discovery/rest")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: FakeGmailServer) -> None:
        self.app = app
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real endpoint
    timeout = 120
    # Buffer the response so status line, headers and body leave in one send (flushed by
    # handle_one_request); with TCP_NODELAY this avoids 40 ms delayed-ACK stalls.
    wbufsize = 1 << 16
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        body = self._read_body()
        url = urllib.parse.urlsplit(self.path)
        req = ApiRequest(
            method=self.command,
            path=url.path,
            query=urllib.parse.parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        resp = self.server.app.handle(req)
        if resp.drop:
            self.close_connection = True  # closed without a byte of answer
            return
        self.send_response(resp.status)
        for key, value in resp.headers:
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class FakeGmailServer:
    """Thread-safe fake of the Gmail API for tests. See the module docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str | None = DEFAULT_CLIENT_ID,
        client_secret: str | None = DEFAULT_CLIENT_SECRET,
        access_token_ttl: int = DEFAULT_ACCESS_TOKEN_TTL,
        seed: int | None = 0,
        initial_history_id: int = DEFAULT_INITIAL_HISTORY_ID,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._address = (host, port)
        self.client_id = client_id
        self.client_secret = client_secret
        self.store = MailStore(initial_history_id=initial_history_id)
        self.auth = TokenAuthority(
            client_id=client_id,
            client_secret=client_secret,
            access_token_ttl=access_token_ttl,
            clock=clock,
        )
        self.quota = Quota(clock)
        self.faults = FaultInjector(seed)
        self.usage = Usage()
        self.api = GmailApi(self.store, self.auth, self.quota, self.faults, self.usage)
        self.internal_errors: list[str] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer(self._address, self)
        host, port = httpd.server_address[:2]
        self._url = f"http://{host!s}:{port}"
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-gmail-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        with httpd.connections_lock:
            open_connections = list(httpd.connections)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
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
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); the ``api_endpoint`` value."""
        if self._url is None:
            raise RuntimeError("server not started")
        return self._url

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    @property
    def batch_uri(self) -> str:
        """Where to post batches when building BatchHttpRequest by hand."""
        return self.url + "/batch/gmail/v1"

    @property
    def discovery_service_url(self) -> str:
        """For ``build(..., discoveryServiceUrl=..., static_discovery=False)``."""
        return self.url + "/discovery/v1/apis/{api}/{apiVersion}/rest"

    # ------------------------------------------------------------------ clients

    def discovery_document(self) -> JsonObj:
        return client.gmail_discovery_document(self.url)

    def credentials(self, refresh_token: str, *, token: str | None = None) -> Any:
        """google.oauth2.credentials.Credentials refreshing against this server."""
        return client.make_credentials(
            self.token_uri,
            refresh_token,
            client_id=self.client_id or "any-client",
            client_secret=self.client_secret or "any-secret",
            token=token,
        )

    def build_service(self, credentials: Any) -> Any:
        """A Gmail v1 Resource whose calls and batches all reach this server."""
        return client.build_gmail_service(self.url, credentials)

    # ------------------------------------------------------------------ users and tokens

    def add_user(
        self,
        email: str,
        refresh_token: str | None = None,
        *,
        scopes: Iterable[str] = DEFAULT_SCOPES,
    ) -> str:
        """Create the mailbox (if new) and register a refresh token; returns the token."""
        self.store.add(email)
        return self.auth.register(email, refresh_token, scopes)

    def revoke(self, token: str) -> None:
        self.auth.revoke(token)

    def expire_access_tokens(self) -> None:
        self.auth.expire_access_tokens()

    def issue_access_token(self, email: str) -> str:
        self.store.get(email)
        return self.auth.issue(email)

    # ------------------------------------------------------------------ mailbox

    def mailbox(self, user: str) -> Mailbox:
        return self.store.get(user)

    def deliver(
        self,
        user: str,
        raw: bytes,
        labels: Iterable[str] = ("INBOX", "UNREAD"),
        thread_id: str | None = None,
        *,
        internal_date: int | None = None,
    ) -> str:
        return self.store.get(user).deliver(raw, labels, thread_id, internal_date=internal_date)

    # ------------------------------------------------------------------ sending

    def send_draft_as_person(self, user: str, draft_id: str, body: str | None = None) -> str:
        """A person opens the draft in Gmail, edits its text (``body``) and sends it;
        returns the sent message's Gmail id (see outbox.py)."""
        return self.store.get(user).outbox.send_draft_as_person(draft_id, body)

    def replace_sent_message_ids(self, user: str, replace: bool = True) -> None:
        """Give mail sent through the API a Message-ID made by Gmail, as Gmail may."""
        self.store.get(user).outbox.replace_message_ids = replace

    def refuse_recipient(self, user: str, address: str) -> None:
        """Sends from ``user`` to ``address`` are answered 400 "Invalid To header"."""
        outbox = self.store.get(user).outbox
        outbox.refused = outbox.refused | {address.lower()}

    def sent_messages(self, user: str) -> list[str]:
        """Gmail ids of the mail sent from the mailbox (API, drafts, a person), in order."""
        return list(self.store.get(user).outbox.sent)

    def drafts(self, user: str) -> list[str]:
        return [d["id"] for d in self.store.get(user).outbox.list_drafts().get("drafts", [])]

    def delete(self, user: str, message_id: str) -> None:
        self.store.get(user).delete(message_id)

    def modify_labels(
        self, user: str, message_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> list[str]:
        return self.store.get(user).modify_labels(message_id, add, remove)

    def expire_history_before(self, user: str, history_id: int) -> None:
        self.store.get(user).expire_history_before(history_id)

    def history_id(self, user: str) -> int:
        return self.store.get(user).history_id

    def add_label(self, user: str, name: str) -> str:
        return self.store.get(user).add_label(name)

    def watch_state(self, user: str) -> WatchState | None:
        return self.store.get(user).watch_state()

    def drain_notifications(self, user: str) -> list[JsonObj]:
        return self.store.get(user).drain_notifications()

    # ------------------------------------------------------------------ quota, faults, stats

    def set_quota(
        self,
        units_per_second: float | None,
        *,
        burst: float | None = None,
        user: str | None = None,
        over_limit_status: int | None = None,
    ) -> None:
        """Per-user budget in quota units/s (None = unlimited); 429 (default) or 403."""
        self.quota.configure(
            units_per_second, burst=burst, user=user, over_limit_status=over_limit_status
        )

    def set_quota_cost(self, method: str, units: int) -> None:
        self.quota.set_cost(method, units)

    def set_fault_rate(
        self,
        rate: float,
        *,
        statuses: Iterable[int] = (500, 503),
        seed: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        self.faults.set_rate(rate, statuses=statuses, seed=seed, methods=methods)

    def queue_fault(
        self,
        method: str,
        status: int | None = 500,
        *,
        count: int = 1,
        user: str | None = None,
        delay: float = 0.0,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with ``status`` (None: only delay).

        ``method`` is a quota name ("messages.get", "history.list", ...), "*" for any
        Gmail call, "batch" for the whole batch request or "token" for the OAuth endpoint
        (google-auth retries 5xx token answers itself, with backoff). ``reason`` /
        ``message`` override the error body, e.g. ``queue_fault("messages.get", 403,
        reason="userRateLimitExceeded")``.
        """
        self.faults.queue(method, Fault(status, delay, reason, message), count, user)

    def queue_drop(
        self, method: str, *, count: int = 1, user: str | None = None, done: bool = True
    ) -> None:
        """The next ``count`` calls of ``method`` are carried out, and then the connection
        is closed without an answer (e.g. a send Gmail accepted, its answer lost);
        ``done=False`` closes it before anything is done."""
        self.faults.queue(method, Fault(None, drop=True, done=done), count, user)

    def clear_faults(self) -> None:
        self.faults.clear()

    def stats(self) -> ServerStats:
        return self.usage.snapshot(dict(self.auth.refreshes))

    def reset_stats(self) -> None:
        self.usage.reset()
        self.auth.refreshes.clear()

    def request_log(self) -> list[RequestRecord]:
        return list(self.usage.log)

    def served_messages(self) -> Counter[str]:
        """Gmail id -> how often ``messages.get`` answered it with 200.

        Unlike ``stats().calls``, a call refused by the quota or a fault and then
        retried counts once: this is what a client actually downloaded.
        """
        return Counter(gmail_id for batch in self.served_batches() for gmail_id in batch)

    def served_batches(self) -> list[list[str]]:
        """The Gmail ids ``messages.get`` answered with 200, one list per request (a
        batch request is one list, a single call another), in the order served."""
        served: dict[tuple[str, int], list[str]] = {}
        for index, record in enumerate(self.usage.log):
            found = _GET_PATH.search(record.path)
            if record.method == "messages.get" and record.status == 200 and found:
                key = ("batch", record.batch) if record.batch is not None else ("call", index)
                served.setdefault(key, []).append(found.group(1))
        return list(served.values())

    # ------------------------------------------------------------------ dispatch

    def handle(self, req: ApiRequest) -> ApiResponse:
        """Answer one HTTP request (used by the socket handler; callable directly too)."""
        self.usage.count("http_requests")
        try:
            return self._route(req)
        except ApiError as exc:
            return exc.to_response()
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            return ApiError(500, "Internal error in the fake Gmail server").to_response()

    def _route(self, req: ApiRequest) -> ApiResponse:
        path = req.path
        if path in TOKEN_PATHS:
            self.usage.count("token_requests")
            fault = self.faults.take("token", None)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.status is not None:
                    return ApiResponse.json(
                        {"error": "internal_failure", "error_description": "Injected fault"},
                        fault.status,
                    )
            return self.auth.handle_token_request(req)
        if path == "/batch" or path.startswith("/batch/"):
            number = self.usage.count("batch_requests")
            fault = self.faults.take("batch", None)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.status is not None:
                    raise ApiError(fault.status, fault.message, reason=fault.reason)
            return run_batch(req, self._dispatch_part, number)
        if path in DISCOVERY_PATHS and req.method == "GET":
            return ApiResponse.json(self.discovery_document())
        return self.api.handle(req)

    def _dispatch_part(self, req: ApiRequest) -> ApiResponse:
        self.usage.count("batch_parts")
        return self.api.handle(req)

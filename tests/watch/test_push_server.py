"""The push endpoint over real HTTP on 127.0.0.1: authentication, envelopes, health."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr

from worker.config import ConfigError, PushSettings
from worker.watch.push_auth import CertificateCache, PushAuthenticator
from worker.watch.push_server import MAX_BODY_BYTES, PushServer

from .keys import (
    AUDIENCE,
    OMIT,
    SERVICE_ACCOUNT,
    SHARED_TOKEN,
    CertsServer,
    FakeClock,
    attacker_key,
    bearer,
    claims,
    google_key,
    rotated_key,
    unsigned_token,
)

MAILBOX = "info@rendetalje.dk"
PATH = "/gmail/push"


@dataclass
class FakeQueue:
    """enqueue_sync: records addresses; unknown mailboxes raise KeyError like a lookup."""

    known: set[str] = field(default_factory=lambda: {MAILBOX})
    fail: BaseException | None = None
    enqueued: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, address: str) -> None:
        if self.fail is not None:
            raise self.fail
        if address not in self.known:
            raise KeyError(address)
        with self.lock:
            self.enqueued.append(address)


@dataclass
class FakeReadiness:
    checks: dict[str, str | bool] = field(default_factory=lambda: {"database": "ok"})
    fail: BaseException | None = None

    def __call__(self) -> dict[str, str | bool]:
        if self.fail is not None:
            raise self.fail
        return self.checks


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def request(
    server: PushServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Response(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def envelope(address: Any = MAILBOX, history_id: Any = 987654) -> bytes:
    notification = {"emailAddress": address, "historyId": history_id}
    return json.dumps(
        {
            "message": {
                "data": base64.b64encode(json.dumps(notification).encode()).decode(),
                "messageId": "2070443601311540",
                "message_id": "2070443601311540",
                "publishTime": "2024-05-01T10:00:00.000Z",
                "publish_time": "2024-05-01T10:00:00.000Z",
            },
            "subscription": "projects/rendetalje-crm/subscriptions/gmail-push",
        }
    ).encode()


def push(
    server: PushServer,
    headers: dict[str, str] | None = None,
    query: str = "",
    body: bytes | None = None,
) -> Response:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return request(server, "POST", PATH + query, envelope() if body is None else body, all_headers)


def genuine() -> dict[str, str]:
    return bearer(google_key().sign(claims()))


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def readiness() -> FakeReadiness:
    return FakeReadiness()


@pytest.fixture
def settings(certs: CertsServer) -> PushSettings:
    """Both methods on, so the shared-token cases can run against the same server."""
    return PushSettings(
        host="127.0.0.1",
        port=0,
        path=PATH,
        audience=AUDIENCE,
        service_account_email=SERVICE_ACCOUNT,
        certs_url=certs.url,
        shared_token=SecretStr(SHARED_TOKEN),
    )


@pytest.fixture
def server(
    settings: PushSettings,
    certs: CertsServer,
    clock: FakeClock,
    queue: FakeQueue,
    readiness: FakeReadiness,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[PushServer]:
    caplog.set_level(logging.DEBUG, logger="worker.watch")
    authenticator = PushAuthenticator(
        settings, certificates=CertificateCache(certs.url, clock=clock)
    )
    with PushServer(settings, queue, readiness, authenticator) as running:
        yield running


# ---------------------------------------------------------------- authentication

FORGED: list[tuple[str, dict[str, str], str, int]] = [
    ("no Authorization header", {}, "", 401),
    ("wrong audience", bearer(google_key().sign(claims(aud="https://evil.test/push"))), "", 403),
    ("wrong issuer", bearer(google_key().sign(claims(iss="https://evil.test"))), "", 403),
    (
        "expired",
        bearer(google_key().sign(claims(iat=1_700_000_000, exp=1_700_003_600))),
        "",
        403,
    ),
    ("other key, same kid", bearer(attacker_key().sign(claims(), kid="google-key-1")), "", 403),
    ("other key, unknown kid", bearer(attacker_key().sign(claims())), "", 403),
    ("wrong service account", bearer(google_key().sign(claims(email="me@evil.test"))), "", 403),
    ("email_verified false", bearer(google_key().sign(claims(email_verified=False))), "", 403),
    ("email_verified missing", bearer(google_key().sign(claims(email_verified=OMIT))), "", 403),
    ("malformed JWT", bearer("eyJhbGciOiJSUzI1NiJ9.garbage"), "", 403),
    (
        "alg none",
        bearer(unsigned_token(claims(), {"alg": "none", "kid": "google-key-1", "typ": "JWT"})),
        "",
        403,
    ),
    ("bad shared token in query", {}, "?token=not-the-token", 403),
    ("bad shared token in header", {"X-Push-Token": "not-the-token"}, "", 403),
    ("shared token as bearer", bearer(SHARED_TOKEN), "", 403),
    ("shared token under another name", {}, f"?shared_token={SHARED_TOKEN}", 401),
    ("shared token in another header", {"X-Token": SHARED_TOKEN}, "", 401),
]


@pytest.mark.parametrize(
    ("headers", "query", "status"),
    [case[1:] for case in FORGED],
    ids=[case[0] for case in FORGED],
)
def test_forged_requests_are_rejected_and_enqueue_nothing(
    server: PushServer,
    queue: FakeQueue,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
    query: str,
    status: int,
) -> None:
    response = push(server, headers, query)
    assert response.status == status
    assert queue.enqueued == []
    assert "push request refused" in caplog.text
    secrets = [SHARED_TOKEN, *(value.partition(" ")[2] for value in headers.values())]
    for secret in filter(None, secrets):
        assert secret not in caplog.text


def test_unauthenticated_answer_names_the_bearer_scheme(server: PushServer) -> None:
    assert push(server).headers.get("www-authenticate") == "Bearer"


def test_genuine_oidc_request_enqueues_the_mailbox_once(
    server: PushServer, queue: FakeQueue, caplog: pytest.LogCaptureFixture
) -> None:
    headers = genuine()
    response = push(server, headers)
    assert (response.status, response.body) == (204, b"")
    assert queue.enqueued == [MAILBOX]
    assert headers["Authorization"].partition(" ")[2] not in caplog.text


@pytest.mark.parametrize(
    ("headers", "query"),
    [({}, f"?token={SHARED_TOKEN}"), ({"X-Push-Token": SHARED_TOKEN}, "")],
    ids=["query", "header"],
)
def test_genuine_shared_token_request_enqueues_once(
    server: PushServer,
    queue: FakeQueue,
    caplog: pytest.LogCaptureFixture,
    headers: dict[str, str],
    query: str,
) -> None:
    assert push(server, headers, query).status == 204
    assert queue.enqueued == [MAILBOX]
    assert SHARED_TOKEN not in caplog.text


def test_shared_token_only_server(queue: FakeQueue, readiness: FakeReadiness) -> None:
    settings = PushSettings(port=0, shared_token=SecretStr(SHARED_TOKEN))
    with PushServer(settings, queue, readiness) as server:
        assert push(server, query=f"?token={SHARED_TOKEN}").status == 204
        # No OIDC configured: a bearer token is not a credential here.
        assert push(server, genuine()).status == 401
        assert push(server, bearer(SHARED_TOKEN)).status == 401
    assert queue.enqueued == [MAILBOX]


def test_token_in_a_malformed_request_line_is_not_logged(
    server: PushServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the HTTP server's own included
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        # Four words: a request line the server cannot parse, and says so in its log.
        conn.sendall(f"POST {PATH}?token={SHARED_TOKEN} junk HTTP/1.1\r\n\r\n".encode())
        assert conn.recv(100).startswith(b"HTTP/1.1 400")
    assert "Invalid HTTP request" in caplog.text
    assert SHARED_TOKEN not in caplog.text


# ---------------------------------------------------------------- certificates


def test_certificates_are_fetched_once_for_many_requests(
    server: PushServer, certs: CertsServer, queue: FakeQueue
) -> None:
    tokens = [genuine() for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda headers: push(server, headers).status, tokens * 5))
    assert statuses == [204] * 40
    assert len(queue.enqueued) == 40
    assert certs.hits == 1


def test_unknown_kid_triggers_one_refetch(
    server: PushServer, certs: CertsServer, clock: FakeClock, queue: FakeQueue
) -> None:
    assert push(server, genuine()).status == 204
    assert certs.hits == 1
    clock.advance(60)
    for _ in range(3):
        assert push(server, bearer(attacker_key().sign(claims()))).status == 403
    assert certs.hits == 2
    # Google rotates: the new key is published and, once the refetch interval has
    # passed, a token signed with it is accepted after one more fetch.
    certs.publish(google_key(), rotated_key())
    clock.advance(60)
    assert push(server, bearer(rotated_key().sign(claims()))).status == 204
    assert push(server, bearer(rotated_key().sign(claims()))).status == 204
    assert certs.hits == 3
    assert queue.enqueued == [MAILBOX] * 3


def test_unreachable_certificates_answer_503(
    server: PushServer, certs: CertsServer, queue: FakeQueue
) -> None:
    certs.fail = True
    assert push(server, genuine()).status == 503
    assert queue.enqueued == []


# ---------------------------------------------------------------- envelopes and enqueueing


def test_enqueue_failure_answers_503_so_pubsub_retries(
    server: PushServer, queue: FakeQueue, caplog: pytest.LogCaptureFixture
) -> None:
    queue.fail = ConnectionError("redis down")
    assert push(server, genuine()).status == 503
    assert "cannot enqueue" in caplog.text


def test_unknown_mailbox_is_acknowledged_with_a_warning(
    server: PushServer, queue: FakeQueue, caplog: pytest.LogCaptureFixture
) -> None:
    response = push(server, genuine(), body=envelope("someone.else@example.com"))
    assert response.status == 204
    assert queue.enqueued == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("someone.else@example.com" in r.getMessage() for r in warnings)


def test_history_id_as_digit_string_is_accepted(server: PushServer, queue: FakeQueue) -> None:
    assert push(server, genuine(), body=envelope(history_id="987654")).status == 204
    assert queue.enqueued == [MAILBOX]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _with_data(data: Any) -> bytes:
    return json.dumps({"message": {"data": data, "messageId": "1"}, "subscription": "s"}).encode()


MALFORMED: list[tuple[str, bytes]] = [
    ("empty body", b""),
    ("not JSON", b"{nope"),
    ("not UTF-8", b"\xff\xfe{}"),
    ("JSON array", b"[]"),
    ("no message", b'{"subscription": "s"}'),
    ("message not an object", b'{"message": "hi"}'),
    ("no data", b'{"message": {"messageId": "1"}}'),
    ("data not a string", _with_data(42)),
    ("data not base64", _with_data("%%% not base64 %%%")),
    ("data not JSON", _with_data(_b64(b"hello"))),
    ("notification not an object", _with_data(_b64(b"[1, 2]"))),
    ("no emailAddress", _with_data(_b64(b'{"historyId": 1}'))),
    ("emailAddress not a string", envelope(address=["info@rendetalje.dk"])),
    ("emailAddress not an address", envelope(address="info")),
    ("no historyId", _with_data(_b64(b'{"emailAddress": "info@rendetalje.dk"}'))),
    ("historyId not a number", envelope(history_id="12ab")),
    ("historyId boolean", envelope(history_id=True)),
    ("body nested too deeply", b"[" * 30_000 + b"]" * 30_000),
    ("data nested too deeply", _with_data(_b64(b"[" * 5_000 + b"]" * 5_000))),
]


@pytest.mark.parametrize("body", [case[1] for case in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_envelope_answers_400(server: PushServer, queue: FakeQueue, body: bytes) -> None:
    assert push(server, genuine(), body=body).status == 400
    assert queue.enqueued == []


def test_oversized_body_answers_413(server: PushServer, queue: FakeQueue) -> None:
    padding = b" " * (MAX_BODY_BYTES + 1 - len(envelope()))
    assert push(server, genuine(), body=envelope() + padding).status == 413
    assert push(server, genuine(), body=envelope() + padding[:-1]).status == 204
    assert queue.enqueued == [MAILBOX]


def test_chunked_body_answers_411(server: PushServer, queue: FakeQueue) -> None:
    headers = {**genuine(), "Transfer-Encoding": "chunked"}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", PATH, body=iter([envelope()]), headers=headers)
        assert connection.getresponse().status == 411
    finally:
        connection.close()
    assert queue.enqueued == []


# ---------------------------------------------------------------- routing and health


def test_other_paths_and_methods(server: PushServer) -> None:
    assert request(server, "POST", "/elsewhere", envelope(), genuine()).status == 404
    assert request(server, "GET", "/elsewhere").status == 404
    response = request(server, "GET", PATH)
    assert (response.status, response.headers.get("allow")) == (405, "POST")


def test_healthz(server: PushServer) -> None:
    response = request(server, "GET", "/healthz")
    assert (response.status, response.body) == (200, b"ok\n")


def test_readyz_when_ready(server: PushServer, readiness: FakeReadiness) -> None:
    readiness.checks = {"database": "ok", "broker": True}
    response = request(server, "GET", "/readyz")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.body) == {"ready": True, "checks": readiness.checks}


@pytest.mark.parametrize(
    "checks",
    [{"database": "ok", "broker": False}, {"database": "connection refused"}],
    ids=["false", "error text"],
)
def test_readyz_when_not_ready(
    server: PushServer, readiness: FakeReadiness, checks: dict[str, str | bool]
) -> None:
    readiness.checks = checks
    response = request(server, "GET", "/readyz")
    assert response.status == 503
    assert json.loads(response.body) == {"ready": False, "checks": checks}


def test_readyz_when_the_check_crashes(server: PushServer, readiness: FakeReadiness) -> None:
    readiness.fail = RuntimeError("secret dsn postgresql://user:pw@db")
    response = request(server, "GET", "/readyz")
    assert response.status == 503
    assert b"secret dsn" not in response.body
    assert json.loads(response.body)["ready"] is False


# ---------------------------------------------------------------- lifecycle


def test_refuses_to_start_without_authentication(
    queue: FakeQueue, readiness: FakeReadiness
) -> None:
    for settings in (PushSettings(port=0), PushSettings(port=0, shared_token=SecretStr(""))):
        with pytest.raises(ConfigError, match=r"push\.audience.*push\.shared_token"):
            PushServer(settings, queue, readiness)


def test_refuses_a_push_path_that_hides_a_health_path(
    queue: FakeQueue, readiness: FakeReadiness
) -> None:
    settings = PushSettings(port=0, path="/healthz", shared_token=SecretStr(SHARED_TOKEN))
    with pytest.raises(ConfigError, match=r"push\.path"):
        PushServer(settings, queue, readiness)


def test_start_and_stop(queue: FakeQueue, readiness: FakeReadiness) -> None:
    settings = PushSettings(port=0, shared_token=SecretStr(SHARED_TOKEN))
    server = PushServer(settings, queue, readiness)
    with pytest.raises(RuntimeError):
        _ = server.port
    server.start()
    assert server.start() is server
    port = server.port
    assert port != 0
    assert server.url == f"http://127.0.0.1:{port}"
    assert request(server, "GET", "/healthz").status == 200
    server.stop()
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_stop_lets_a_request_in_progress_finish(readiness: FakeReadiness) -> None:
    entered, release = threading.Event(), threading.Event()
    enqueued: list[str] = []

    def slow_enqueue(address: str) -> None:
        entered.set()
        release.wait(5)
        enqueued.append(address)

    settings = PushSettings(port=0, shared_token=SecretStr(SHARED_TOKEN))
    server = PushServer(settings, slow_enqueue, readiness).start()
    statuses: list[int] = []
    client = threading.Thread(
        target=lambda: statuses.append(push(server, query=f"?token={SHARED_TOKEN}").status)
    )
    client.start()
    assert entered.wait(5)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    release.set()
    stopper.join(10)
    client.join(10)
    assert not stopper.is_alive()
    assert statuses == [204]
    assert enqueued == [MAILBOX]

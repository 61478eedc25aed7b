"""`crm watch` and `crm worker` as processes against hostile HTTP clients.

Each hostile client is answered or cut off within the configured request deadline
(``[http] request_timeout_seconds``, short here), valid pushes are served meanwhile, and
SIGTERM ends the process within 10 s however many clients are still dribbling.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core.models import EmailMessage
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, customer_mail, write_token_file
from tests.gmail_fake import FakeGmailServer
from tests.gmail_fake import fixtures as gmail_fixtures
from tests.processes import (
    clear_namespace,
    daemon,
    free_port,
    http_get,
    new_namespace,
    stop,
    wait_for,
    write_config,
)
from tests.watch.hostile import (
    CUT_OFF,
    Outcome,
    idle_connections,
    nested,
    notification,
    post,
    raw_request,
    read_answer,
    slow_body,
    slow_headers,
)

gmail_server = gmail_fixtures.gmail_server  # the shared fixture

pytestmark = pytest.mark.slow
SECRET = "push-secret-for-hostile-tests"
DEADLINE = 1.5  # request_timeout_seconds in these tests
# Scheduling slack on a shared two-core machine, on top of the deadline.
SLACK = 2.0
PUSH = f"/gmail/push?token={SECRET}"


@contextmanager
def watcher(
    database: Database,
    server: FakeGmailServer,
    tmp_path: Path,
    *,
    deadline: float = DEADLINE,
    max_connections: int = 1200,
    shutdown_timeout: float = 1,
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`crm watch` with one push mailbox, ready to answer on its port."""
    port = free_port()
    refresh = server.add_user(MAILBOX)
    tokens = tmp_path / "tokens"
    write_token_file(server, refresh, tokens / f"{MAILBOX}.json")
    config = tmp_path / "crm.toml"
    config.write_text(
        f'[database]\nurl = "{database.url}"\n\n[broker]\nurl = "inline"\n\n'
        f'[gmail]\napi_endpoint = "{server.url}"\ntoken_dir = "{tokens}"\n'
        'topic_name = "projects/test/topics/gmail"\nquota_units_per_second = 10000\n\n'
        f'[push]\nport = {port}\nshared_token = "{SECRET}"\n\n'
        f"[http]\nrequest_timeout_seconds = {deadline}\nmax_connections = {max_connections}\n"
        f"shutdown_timeout_seconds = {shutdown_timeout}\n\n"
        f'[logging]\nformat = "json"\n\n'
        f'[[mailboxes]]\naddress = "{MAILBOX}"\nmode = "push"\n',
        encoding="utf-8",
    )
    with daemon(config, "watch", log=tmp_path / "watch.log") as process:
        wait_for(
            lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
            30,
            what="crm watch to listen",
        )
        yield process, port


def stored(database: Database) -> int:
    with database.sessions() as session:
        return session.execute(select(func.count()).select_from(EmailMessage)).scalar_one()


def push_ok(port: int) -> bool:
    return raw_request(port, post(PUSH, notification(MAILBOX))).status == 204


def assert_ended_by_the_deadline(outcome: Outcome, deadline: float = DEADLINE) -> None:
    # The client would have gone on for 100 s: only the deadline ends it this soon.
    assert outcome.seconds < deadline + SLACK, outcome
    assert outcome.seconds > deadline * 0.9, outcome
    assert outcome.status == 408 or outcome.answer == CUT_OFF, outcome


def test_slow_headers_and_slow_bodies_are_cut_off_while_pushes_are_served(
    sqlite_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    with watcher(sqlite_database, gmail_server, tmp_path) as (_, port):
        dribblers = [slow_headers(port, PUSH).start() for _ in range(5)]
        dribblers += [slow_body(port, PUSH).start() for _ in range(5)]
        gmail_server.deliver(MAILBOX, customer_mail(1))
        assert push_ok(port)  # served while ten clients dribble
        for dribbler in dribblers:
            outcome = dribbler.wait(DEADLINE + 30)
            assert_ended_by_the_deadline(outcome)
            assert outcome.status == 408
        wait_for(lambda: stored(sqlite_database) == 1, 30, what="the pushed sync")


def test_a_thousand_idle_connections_are_closed_and_pushes_still_served(
    sqlite_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    with watcher(sqlite_database, gmail_server, tmp_path) as (_, port):
        opened = time.monotonic()
        with idle_connections(port, 1000) as idle:
            assert push_ok(port)
            assert http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200
            outcomes = [read_answer(sock, opened) for sock in idle]
        assert {outcome.status for outcome in outcomes} == {408}
        # The last was opened within a second or two of the first; none outlived the
        # deadline by more than the slack.
        assert max(outcome.seconds for outcome in outcomes) < DEADLINE + SLACK + 3
        assert push_ok(port)


def test_connections_over_the_cap_are_answered_503_at_once(
    sqlite_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    with (
        watcher(sqlite_database, gmail_server, tmp_path, deadline=30, max_connections=50) as (
            _,
            port,
        ),
        idle_connections(port, 50) as idle,
    ):
        time.sleep(0.5)  # the server has accepted them all
        started = time.monotonic()
        with idle_connections(port, 1) as (extra,):
            outcome = read_answer(extra, started)
        assert outcome.status == 503
        assert outcome.seconds < SLACK
        idle[0].close()  # one slot frees: a push gets in again
        wait_for(lambda: push_ok(port), 10, what="a push once a slot is free")


def test_nested_json_with_a_valid_token_is_answered_400(
    sqlite_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    deep_data = base64.b64encode(nested(20_000)).decode()
    deep_inside = json.dumps({"message": {"data": deep_data}, "subscription": "s"}).encode()
    with watcher(sqlite_database, gmail_server, tmp_path) as (_, port):
        for body in (nested(30_000), deep_inside):
            outcome = raw_request(port, post(PUSH, body))
            assert outcome.status == 400, outcome
        assert push_ok(port)


def test_huge_content_length_is_answered_413_without_waiting(
    sqlite_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    with watcher(sqlite_database, gmail_server, tmp_path, deadline=30) as (_, port):
        # 40 digits is no length the HTTP parser accepts (400); 10 MiB is over the limit.
        for length, status in (("9" * 40, 400), (str(10 * 1024 * 1024), 413)):
            head = (f"POST {PUSH} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n").encode()
            outcome = raw_request(port, head, b"{")
            assert outcome.status == status, outcome
            assert outcome.seconds < SLACK  # not the 30 s deadline
        assert push_ok(port)


def test_sigterm_while_clients_dribble_exits_within_ten_seconds(
    sqlite_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    # A long request deadline: only the bounded shutdown can end the dribblers in time.
    with watcher(sqlite_database, gmail_server, tmp_path, deadline=60, shutdown_timeout=2) as (
        process,
        port,
    ):
        dribblers = [slow_headers(port, PUSH).start() for _ in range(10)]
        dribblers += [slow_body(port, PUSH).start() for _ in range(10)]
        with idle_connections(port, 50):
            time.sleep(1)
            assert push_ok(port)
            started = time.monotonic()
            assert stop(process, signal.SIGTERM, timeout=10) == 0
            assert time.monotonic() - started < 10
        for dribbler in dribblers:
            assert dribbler.wait(10).seconds < 60
    # Cut off, not cancelled: no request ended as an application error.
    assert "Traceback" not in (tmp_path / "watch.log").read_text(encoding="utf-8")


def test_worker_health_port_cuts_off_slow_clients_and_stops_on_sigterm(
    pg_database: Database, tmp_path: Path
) -> None:
    namespace = new_namespace()
    health_port = free_port()
    config = write_config(
        tmp_path / "crm.toml",
        pg_database,
        namespace,
        http=f"[http]\nrequest_timeout_seconds = {DEADLINE}\nshutdown_timeout_seconds = 1\n",
    )
    config.write_text(
        config.read_text().replace("worker_health_port = 0", f"worker_health_port = {health_port}")
    )
    try:
        with daemon(config, "worker", "-p", "1", "-t", "1", log=tmp_path / "worker.log") as worker:
            url = f"http://127.0.0.1:{health_port}"
            wait_for(lambda: http_get(f"{url}/healthz")[0] == 200, 30, what="the health port")
            dribblers = [slow_headers(health_port, "/healthz").start() for _ in range(5)]
            with idle_connections(health_port, 200) as idle:
                assert http_get(f"{url}/readyz")[0] == 200  # served meanwhile
                opened = time.monotonic()
                outcomes = [read_answer(sock, opened) for sock in idle]
            assert {outcome.status for outcome in outcomes} == {408}
            for dribbler in dribblers:
                assert_ended_by_the_deadline(dribbler.wait(DEADLINE + 30))
            more = [slow_body(health_port, "/healthz").start() for _ in range(5)]
            time.sleep(0.5)
            started = time.monotonic()
            # To the main process only, as systemd sends it (KillMode=mixed): Dramatiq
            # passes it on to the worker and health processes.
            assert stop(worker, signal.SIGTERM, timeout=10, main_only=True) == 0
            assert time.monotonic() - started < 10
            for dribbler in more:
                dribbler.wait(10)
    finally:
        clear_namespace(namespace)

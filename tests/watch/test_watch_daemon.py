"""`crm watch` as a real process: mail delivered to Gmail appears in the CRM."""

from __future__ import annotations

import base64
import json
import signal
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm_core.models import EmailMessage, Mailbox
from tests.conftest import Database
from tests.gmail.conftest import MAILBOX, customer_mail, write_token_file
from tests.gmail_fake import FakeGmailServer
from tests.gmail_fake import fixtures as gmail_fixtures
from tests.processes import daemon, free_port, http_get, stop, wait_for
from worker.watch.schedule import Schedule

gmail_server = gmail_fixtures.gmail_server  # the shared fixture

pytestmark = pytest.mark.slow
SECRET = "push-secret-for-tests"


def write_config(
    path: Path, database: Database, server: FakeGmailServer, port: int, mode: str
) -> Path:
    refresh = server.add_user(MAILBOX)
    tokens = path.parent / "tokens"
    write_token_file(server, refresh, tokens / f"{MAILBOX}.json")
    path.write_text(
        f'[database]\nurl = "{database.url}"\npg_schema = "{database.schema}"\n\n'
        '[broker]\nurl = "inline"\n\n'
        f'[gmail]\napi_endpoint = "{server.url}"\ntoken_dir = "{tokens}"\n'
        "poll_interval_seconds = 1\nbackstop_interval_seconds = 3600\n"
        'topic_name = "projects/test/topics/gmail"\nquota_units_per_second = 10000\n\n'
        f'[push]\nhost = "127.0.0.1"\nport = {port}\nshared_token = "{SECRET}"\n\n'
        f'[[mailboxes]]\naddress = "{MAILBOX}"\nmode = "{mode}"\n',
        encoding="utf-8",
    )
    return path


def stored(database: Database) -> int:
    with database.sessions() as session:
        return session.execute(select(func.count()).select_from(EmailMessage)).scalar_one()


def test_schedule_polls_and_backstops() -> None:
    from worker.config import MailboxConfig

    schedule = Schedule.for_mailboxes(
        [MailboxConfig(address="A@x.dk"), MailboxConfig(address="b@x.dk", mode="push")],
        poll_seconds=30,
        backstop_seconds=600,
        renew_hours=24,
    )
    poll, push = schedule.mailboxes
    assert poll.sync_due(0) and push.sync_due(0) and push.renewal_due(0)
    assert not poll.renewal_due(0)
    poll.synced(0)
    push.synced(0)
    push.renewed(0, ok=True)
    assert not poll.sync_due(29) and poll.sync_due(30)
    assert not push.sync_due(599) and push.sync_due(600)
    assert not push.renewal_due(86_399) and push.renewal_due(86_400)
    push.renewed(100, ok=False)
    assert push.renewal_due(400)  # a failed renewal is retried in minutes, not a day


def test_poll_mode_brings_new_mail_in_within_seconds(
    pg_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    port = free_port()
    config = write_config(tmp_path / "crm.toml", pg_database, gmail_server, port, "poll")
    for n in range(3):
        gmail_server.deliver(MAILBOX, customer_mail(n))

    with daemon(config, "watch", log=tmp_path / "watch.log") as watcher:
        wait_for(lambda: stored(pg_database) == 3, timeout=30, what="the first sync")
        assert http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        status, body = http_get(f"http://127.0.0.1:{port}/readyz")
        assert status == 200 and json.loads(body)["checks"]["database"] == "ok"

        for n in range(3, 5):
            gmail_server.deliver(MAILBOX, customer_mail(n))
        wait_for(lambda: stored(pg_database) == 5, timeout=15, what="new mail to arrive")

        # The metrics report what the database holds.
        status, body = http_get(f"http://127.0.0.1:{port}/metrics")
        metrics = body.decode()
        assert status == 200
        assert 'crm_messages_ingested_total{direction="inbound"} 5.0' in metrics
        assert "crm_customers_created_total 5.0" in metrics
        assert 'crm_messages_by_outcome{outcome="pending"} 0.0' in metrics
        assert f'crm_mailbox_needs_reauth{{mailbox="{MAILBOX}"}} 0.0' in metrics
        assert f'crm_mailbox_sync_lag_seconds{{mailbox="{MAILBOX}"}}' in metrics
        # Inline syncs run in the watcher: its own Gmail counters (5 units per get).
        assert 'crm_gmail_quota_units_total{method="messages.get"} 25.0' in metrics
        assert 'crm_gmail_calls_total{method="messages.get"} 5.0' in metrics
        assert stop(watcher, signal.SIGTERM, timeout=20) == 0
    assert stored(pg_database) == 5


def _notification(address: str, history_id: int) -> bytes:
    data = base64.b64encode(json.dumps({"emailAddress": address, "historyId": history_id}).encode())
    return json.dumps(
        {"message": {"data": data.decode(), "messageId": "1"}, "subscription": "s"}
    ).encode()


def test_push_mode_syncs_on_notification(
    pg_database: Database, gmail_server: FakeGmailServer, tmp_path: Path
) -> None:
    port = free_port()
    config = write_config(tmp_path / "crm.toml", pg_database, gmail_server, port, "push")
    gmail_server.deliver(MAILBOX, customer_mail(0))
    push_url = f"http://127.0.0.1:{port}/gmail/push"

    with daemon(config, "watch", log=tmp_path / "watch.log"):
        wait_for(lambda: stored(pg_database) == 1, timeout=30, what="the start-up sync")
        wait_for(lambda: gmail_server.watch_state(MAILBOX) is not None, timeout=10, what="watch")
        with pg_database.sessions() as session:
            row = session.execute(select(Mailbox)).scalar_one()
            assert row.watch_expires_at is not None

        gmail_server.deliver(MAILBOX, customer_mail(1))
        forged = urllib.request.Request(push_url, data=_notification(MAILBOX, 1), method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=5)
        assert refused.value.code == 401
        assert stored(pg_database) == 1  # no poll in push mode: nothing synced yet

        valid = urllib.request.Request(
            f"{push_url}?token={SECRET}", data=_notification(MAILBOX, 1), method="POST"
        )
        with urllib.request.urlopen(valid, timeout=5) as answer:
            assert answer.status == 204
        wait_for(lambda: stored(pg_database) == 2, timeout=15, what="the pushed sync")

"""Credentials: revoked grants, token files, and `crm gmail auth`."""

from __future__ import annotations

import json
import logging
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crm_core.mailboxes import get_or_create_mailbox, mark_needs_reauth
from crm_core.statuses import MailboxStatus
from tests.conftest import Database
from tests.gmail.conftest import (
    MAILBOX,
    Account,
    deliver_customers,
    mailbox_row,
    outcomes,
    sync,
    write_token_file,
)
from tests.gmail_fake import FakeGmailServer
from worker.cli.main import app
from worker.gmail import auth_flow
from worker.gmail.credentials import load_credentials
from worker.gmail.errors import CredentialsUnavailableError, WrongAccountError
from worker.runtime import Runtime


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_revoked_grant_marks_needs_reauth_and_stops_calling_gmail(
    runtime: Runtime,
    gmail_server: FakeGmailServer,
    account: Account,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    deliver_customers(gmail_server, range(3))
    assert sync(runtime).status == "ok"
    access_token = json.loads(account.token_file.read_text())["token"]
    gmail_server.revoke(account.refresh_token)
    gmail_server.expire_access_tokens()
    deliver_customers(gmail_server, range(3, 6))
    gmail_server.reset_stats()

    report = sync(runtime)

    assert report.status == "needs_reauth"
    row = mailbox_row(runtime)
    assert row.status is MailboxStatus.NEEDS_REAUTH
    expected = f"authorisation revoked or expired: run `crm gmail auth {MAILBOX}`"
    assert row.last_error == report.error == expected
    stats = gmail_server.stats()
    assert stats.token_requests == 1  # one refused refresh, no retry loop
    assert len(outcomes(runtime)) == 3

    gmail_server.reset_stats()
    for _ in range(3):
        assert sync(runtime).status == "needs_reauth"
    assert gmail_server.stats().http_requests == 0  # no Gmail or token call at all

    assert account.refresh_token not in caplog.text
    assert access_token not in caplog.text
    assert mode_of(account.token_file) == 0o600


def test_refreshed_token_is_written_back_owner_only(
    runtime: Runtime, gmail_server: FakeGmailServer, account: Account
) -> None:
    assert "token" not in json.loads(account.token_file.read_text())
    sync(runtime)
    saved = json.loads(account.token_file.read_text())
    assert saved["token"].startswith("ya29.") and saved["refresh_token"] == account.refresh_token
    assert saved["token_uri"] == gmail_server.token_uri
    assert mode_of(account.token_file) == 0o600
    assert not list(account.token_file.parent.glob(".*.tmp"))

    gmail_server.reset_stats()
    sync(runtime)
    assert gmail_server.stats().token_requests == 0  # the saved token is still good


def test_group_readable_token_file_is_narrowed(
    account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    account.token_file.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        loaded = load_credentials(account.token_file, MAILBOX)
    assert mode_of(account.token_file) == 0o600
    assert "readable by others" in caplog.text
    assert loaded.credentials.token_uri.endswith("/token")


def test_missing_credentials_are_a_clear_error(
    runtime: Runtime, account: Account, gmail_server: FakeGmailServer
) -> None:
    account.token_file.unlink()
    with pytest.raises(CredentialsUnavailableError, match=re.escape("run `crm gmail auth")):
        sync(runtime)
    assert "crm gmail auth" in (mailbox_row(runtime).last_error or "")
    assert gmail_server.stats().http_requests == 0


# --------------------------------------------------------------------------- crm gmail auth


def _config(path: Path, database: Database, server: FakeGmailServer, tokens: Path) -> Path:
    secrets = path.parent / "client.json"
    secrets.write_text(json.dumps({"installed": {"client_id": "x", "client_secret": "y"}}))
    schema = f'pg_schema = "{database.schema}"\n' if database.schema else ""
    path.write_text(
        f'[database]\nurl = "{database.url}"\n{schema}\n'
        f'[gmail]\napi_endpoint = "{server.url}"\ntoken_dir = "{tokens}"\n'
        f'client_secrets_file = "{secrets}"\n\n'
        f'[[mailboxes]]\naddress = "{MAILBOX}"\n'
    )
    return path


def test_gmail_auth_writes_the_token_file_and_reactivates(
    database: Database,
    gmail_server: FakeGmailServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refresh = gmail_server.add_user(MAILBOX)
    other = gmail_server.add_user("someone@example.com")
    tokens = tmp_path / "tokens"
    config = _config(tmp_path / "config.toml", database, gmail_server, tokens)
    seen: list[Any] = []

    def consent(token: str) -> Any:
        def run_flow(secrets: Path, address: str, options: auth_flow.FlowOptions) -> Any:
            seen.append((address, options.open_browser))
            return gmail_server.credentials(token)

        return run_flow

    with database.sessions() as session, session.begin():
        get_or_create_mailbox(session, MAILBOX)
        mark_needs_reauth(session, MAILBOX, "revoked")
    runner = CliRunner()
    monkeypatch.setattr(auth_flow, "run_installed_app_flow", consent(other))
    wrong = runner.invoke(app, ["--config", str(config), "gmail", "auth", MAILBOX, "--no-browser"])
    assert wrong.exit_code == 1
    assert "you authorised someone@example.com" in wrong.stderr
    assert not (tokens / f"{MAILBOX}.json").exists()

    monkeypatch.setattr(auth_flow, "run_installed_app_flow", consent(refresh))
    result = runner.invoke(app, ["--config", str(config), "gmail", "auth", MAILBOX, "--no-browser"])
    assert result.exit_code == 0, result.output
    assert seen[-1] == (MAILBOX, False)
    token_file = tokens / f"{MAILBOX}.json"
    assert mode_of(token_file) == 0o600
    assert json.loads(token_file.read_text())["refresh_token"] == refresh
    assert refresh not in result.output

    status = runner.invoke(app, ["--config", str(config), "gmail", "status", "--json"])
    assert json.loads(status.stdout)[0]["status"] == "active"
    assert json.loads(status.stdout)[0]["last_error"] is None


def test_service_account_key_impersonates_the_mailbox(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "key.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "crm@project.iam.gserviceaccount.com",
                "private_key": pem,
                "private_key_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    path.chmod(0o600)

    loaded = load_credentials(path, "Info@Rendetalje.dk")

    assert loaded.service_account
    assert loaded.credentials._subject == MAILBOX
    assert loaded.credentials.scopes == ["https://www.googleapis.com/auth/gmail.readonly"]
    assert not loaded.save_if_refreshed()  # minted from the key, never written


def test_credentials_of_another_account_are_refused(
    runtime: Runtime, gmail_server: FakeGmailServer, account: Account
) -> None:
    other = gmail_server.add_user("someone@example.com")
    gmail_server.deliver("someone@example.com", b"Subject: x\r\n\r\nnot ours\r\n")
    write_token_file(gmail_server, other, account.token_file)
    with pytest.raises(WrongAccountError):
        sync(runtime)
    assert outcomes(runtime) == {}
    assert "are those of someone@example.com" in (mailbox_row(runtime).last_error or "")

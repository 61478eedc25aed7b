"""Loading and saving a mailbox's Gmail credentials.

Two kinds of file are understood:

- the authorized-user JSON that ``crm gmail auth`` writes (client id and secret,
  refresh token, token_uri, and the last access token with its expiry);
- a service account key (``"type": "service_account"``) of a Google Workspace domain
  with domain-wide delegation: the mailbox address is the subject impersonated.

Files hold secrets: they are written with mode 0600 (created that way, never widened
afterwards) and a file found readable by group or others is narrowed to 0600 with a
warning. Tokens are never logged; only paths are.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google.oauth2 import service_account
from google.oauth2.credentials import Credentials

from crm_core.normalize import mailbox_key
from worker.config import ConfigError, Settings
from worker.gmail.errors import CredentialsUnavailableError
from worker.private_file import write_secret_file

SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
SCOPES = (SCOPE,)
# Replies: gmail.send sends, gmail.compose makes (and sends) drafts. Asked for only by
# `crm gmail auth ADDRESS --send`; reading stays the default.
SEND_SCOPE = "https://www.googleapis.com/auth/gmail.send"
COMPOSE_SCOPE = "https://www.googleapis.com/auth/gmail.compose"
SEND_SCOPES = (SCOPE, SEND_SCOPE, COMPOSE_SCOPE)
# Scopes that include sending (compose sends drafts and messages; full access all).
FULL_SCOPE = "https://mail.google.com/"
SCOPES_THAT_SEND = frozenset({SEND_SCOPE, COMPOSE_SCOPE, FULL_SCOPE})
SCOPES_THAT_DRAFT = frozenset({COMPOSE_SCOPE, FULL_SCOPE})

log = logging.getLogger("worker.gmail")


def credentials_path(settings: Settings, address: str) -> Path:
    """The mailbox's ``credentials_file``, else ``<gmail.token_dir>/<address>.json``."""
    try:
        configured = settings.mailbox(address).credentials_file
    except ConfigError:
        configured = None
    return configured or settings.gmail.token_dir / f"{mailbox_key(address)}.json"


def reauth_hint(address: str) -> str:
    return f"authorisation revoked or expired: run `crm gmail auth {mailbox_key(address)}`"


@dataclass
class MailboxCredentials:
    """Credentials for one mailbox and where they came from."""

    credentials: Any  # google.auth.credentials.Credentials
    path: Path
    service_account: bool
    _loaded_token: str | None = None

    def save_if_refreshed(self) -> bool:
        """Write a refreshed access token back, so the next run need not refresh again.

        Service account tokens are minted from the key and never written.
        """
        token = getattr(self.credentials, "token", None)
        if self.service_account or token is None or token == self._loaded_token:
            return False
        write_secret_file(self.path, self.credentials.to_json())
        self._loaded_token = token
        return True


def granted_scopes(credentials: MailboxCredentials) -> frozenset[str] | None:
    """The scopes the file says were granted; None when it does not say (older files,
    service accounts: Gmail's answer then tells)."""
    if credentials.service_account:
        return None
    scopes = getattr(credentials.credentials, "granted_scopes", None) or getattr(
        credentials.credentials, "scopes", None
    )
    return frozenset(scopes) if scopes else None


def send_hint(address: str) -> str:
    key = mailbox_key(address)
    return (
        f"{key} is not authorised to send: run `crm gmail auth {key} --send` "
        "(asks for gmail.send and gmail.compose); the replies wait queued until then"
    )


def narrow_permissions(path: Path) -> None:
    """A secrets file readable by group or others is narrowed to 0600 (and said so)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "credentials file was readable by others; permissions set to 0600",
            extra={"path": str(path), "mode": oct(mode)},
        )
        os.chmod(path, 0o600)


def load_credentials(
    path: Path, address: str, scopes: tuple[str, ...] = SCOPES
) -> MailboxCredentials:
    """Read the file at ``path``; raise CredentialsUnavailableError with a fix when unusable."""
    if not path.is_file():
        raise CredentialsUnavailableError(
            f"no Gmail credentials for {mailbox_key(address)} at {path}: "
            f"run `crm gmail auth {mailbox_key(address)}`"
        )
    narrow_permissions(path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
        if info.get("type") == "service_account":
            credentials: Any = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=list(scopes), subject=mailbox_key(address)
            )
            return MailboxCredentials(credentials, path, service_account=True)
        credentials = Credentials.from_authorized_user_info(info)  # type: ignore[no-untyped-call]
        if info.get("token_uri"):
            # google-auth ignores the file's token_uri and always uses Google's; the
            # file names the endpoint the refresh token belongs to (a proxy, a test
            # server), so it is honoured, over https or to this machine only.
            credentials = credentials.with_token_uri(_checked_token_uri(info["token_uri"]))
    except (OSError, ValueError, KeyError) as exc:
        # The message names the file and the missing field, never a value from it.
        raise CredentialsUnavailableError(
            f"credentials file {path} is not an authorized-user or service-account "
            f"JSON: {type(exc).__name__}"
        ) from None
    return MailboxCredentials(credentials, path, False, credentials.token)


def _checked_token_uri(value: object) -> str:
    uri = str(value)
    parts = urlsplit(uri)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme == "https" or (parts.scheme == "http" and local):
        return uri
    raise ValueError("token_uri must be https (or http to this machine)")


def save_authorized_user(path: Path, credentials: Credentials) -> None:
    write_secret_file(path, credentials.to_json())  # type: ignore[no-untyped-call]

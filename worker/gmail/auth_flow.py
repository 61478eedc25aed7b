"""Authorising the CRM to read a mailbox: the OAuth installed-app flow.

``crm gmail auth ADDRESS`` runs it with the OAuth client of ``gmail.client_secrets_file``
and read-only Gmail scope (``--send`` adds gmail.send and gmail.compose, for replies),
asking for offline access with forced consent so that Google returns a refresh token
every time (it omits it on a repeated consent otherwise). The flow listens on a local
port for Google's redirect. On a machine without a browser, ``--no-browser`` prints
the URL instead; open it anywhere and let the redirect reach the port (e.g.
``ssh -L PORT:localhost:PORT``, with ``--port``).

Before the credentials are written, one getProfile call checks that the account
authorised is the mailbox's: authorising the wrong account would file someone else's
mail under this mailbox. The file is written with mode 0600; nothing is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google_auth_oauthlib.flow import InstalledAppFlow

from crm_core.normalize import mailbox_key
from worker.config import Settings
from worker.gmail.credentials import SCOPES, credentials_path, save_authorized_user
from worker.gmail.errors import CredentialsUnavailableError, WrongAccountError
from worker.gmail.service import build_gmail_service

PROMPT = "Open this address in a browser and allow {access} access to {address}:\n{{url}}"


@dataclass(frozen=True)
class FlowOptions:
    open_browser: bool = True
    host: str = "localhost"
    port: int = 0  # 0: any free port
    timeout_seconds: int | None = 600
    scopes: tuple[str, ...] = SCOPES  # credentials.SEND_SCOPES: also send and draft


def run_installed_app_flow(client_secrets: Path, address: str, options: FlowOptions) -> Any:
    """The user's consent, as google.oauth2.credentials.Credentials with a refresh token."""
    flow = InstalledAppFlow.from_client_secrets_file(
        str(client_secrets), scopes=list(options.scopes)
    )
    access = "read and send" if options.scopes != SCOPES else "read"
    return flow.run_local_server(
        host=options.host,
        port=options.port,
        open_browser=options.open_browser,
        authorization_prompt_message=PROMPT.format(access=access, address=address),
        timeout_seconds=options.timeout_seconds,
        access_type="offline",
        prompt="consent",
        login_hint=address,
    )


def account_of(settings: Settings, credentials: Any) -> str:
    service = build_gmail_service(settings.gmail.api_endpoint, credentials)
    profile = service.users().getProfile(userId="me").execute(num_retries=3)
    return mailbox_key(str(profile.get("emailAddress") or ""))


def authorise(
    settings: Settings,
    address: str,
    options: FlowOptions | None = None,
    *,
    run_flow: Callable[[Path, str, FlowOptions], Any] | None = None,
) -> Path:
    """Run the flow for ``address`` and write its credentials file; returns the path."""
    mailbox = mailbox_key(address)
    secrets = settings.gmail.client_secrets_file
    if secrets is None or not Path(secrets).is_file():
        raise CredentialsUnavailableError(
            "no OAuth client: set gmail.client_secrets_file to the client JSON "
            "(Google Cloud console → APIs & Services → Credentials → OAuth client, Desktop)"
        )
    flow = run_flow or run_installed_app_flow
    credentials = flow(Path(secrets), mailbox, options or FlowOptions())
    if not getattr(credentials, "refresh_token", None):
        raise CredentialsUnavailableError(
            "Google returned no refresh token; remove the app's access at "
            "https://myaccount.google.com/permissions and authorise again"
        )
    owner = account_of(settings, credentials)
    if owner != mailbox:
        raise WrongAccountError(f"you authorised {owner}, not {mailbox}; nothing was saved")
    path = credentials_path(settings, mailbox)
    save_authorized_user(path, credentials)
    return path

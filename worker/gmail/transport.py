"""An HTTP transport for sends that never repeats a request by itself.

httplib2, the client library's default transport, sends a request again when the
connection closes before an answer arrives (``RETRIES = 2`` in ``_conn_request``,
whatever the method). For a read that is harmless; for ``messages.send`` it means
that Gmail, having accepted the first POST and then lost the connection, receives
the same mail twice and the customer gets two. This transport is requests through
google-auth's AuthorizedSession with urllib3's retries off, behind the small part of
httplib2's interface that googleapiclient uses: a connection that drops is an error
for the caller, who then looks in the mailbox (worker/gmail/sent_lookup.py) instead
of sending again. (A 401 is still answered by refreshing the token and asking once
more: Gmail refused that request before doing anything.)
"""

from __future__ import annotations

from typing import Any

import httplib2  # type: ignore[import-untyped]
from google.auth.transport.requests import AuthorizedSession
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

# Seconds to connect, and to wait for the next bytes of the answer.
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 120

NO_RETRIES = Retry(total=0, connect=0, read=0, redirect=0, status=0, other=0, raise_on_status=False)

# Headers that describe the bytes as they travelled, not the decoded content handed on.
_TRANSFER_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class NoRepeatHttp:
    """``httplib2.Http``'s ``request`` over a session that sends each request once."""

    def __init__(self, credentials: Any) -> None:
        self.session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        adapter = HTTPAdapter(max_retries=NO_RETRIES)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.timeout = (CONNECT_TIMEOUT, READ_TIMEOUT)

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        redirections: int = 5,
        connection_type: Any = None,
    ) -> tuple[Any, bytes]:
        answer = self.session.request(  # type: ignore[no-untyped-call]
            method,
            uri,
            data=body,
            headers=headers,
            timeout=self.timeout,
            allow_redirects=False,
        )
        info = {
            key.lower(): value
            for key, value in answer.headers.items()
            if key.lower() not in _TRANSFER_HEADERS
        }
        info["status"] = str(answer.status_code)
        return httplib2.Response(info), answer.content

    def close(self) -> None:
        self.session.close()  # type: ignore[no-untyped-call]

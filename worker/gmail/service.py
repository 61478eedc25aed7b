"""Building the Gmail API client so that every call, batches included, reaches
``gmail.api_endpoint``.

``build(..., client_options={"api_endpoint": url})`` moves the per-method URLs only:
a batch request is posted to the discovery document's ``rootUrl`` + ``batchPath``,
which stays ``https://gmail.googleapis.com/batch``. So the client is built from a copy
of the discovery document bundled with google-api-python-client whose root URLs are
the configured endpoint: no discovery fetch over the network, and one place decides
where requests go.
"""

from __future__ import annotations

import copy
import json
import threading
from functools import cached_property
from typing import Any

import httplib2  # type: ignore[import-untyped]
from google_auth_httplib2 import AuthorizedHttp  # type: ignore[import-untyped]
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc

# Seconds a socket may wait for the next data (httplib2's timeout), not for a whole
# answer: a large message may take longer to arrive as long as it keeps coming.
HTTP_TIMEOUT = 120

_document: dict[str, Any] | None = None
_document_lock = threading.Lock()


def _bundled_document() -> dict[str, Any]:
    global _document
    with _document_lock:
        if _document is None:
            text = get_static_doc("gmail", "v1")
            if text is None:
                raise RuntimeError("google-api-python-client ships no gmail v1 document")
            _document = json.loads(text)
        return copy.deepcopy(_document)


def discovery_document(api_endpoint: str) -> dict[str, Any]:
    """The Gmail v1 discovery document with every root URL set to ``api_endpoint``."""
    document = _bundled_document()
    root = api_endpoint.rstrip("/") + "/"
    document["rootUrl"] = root
    document["mtlsRootUrl"] = root
    document["baseUrl"] = root + document.get("servicePath", "")
    return document


def build_gmail_service(api_endpoint: str, credentials: Any, http: Any = None) -> Any:
    """A Gmail v1 ``Resource``. Not thread-safe (httplib2): one per thread or sync.

    ``http`` replaces the default transport (sends use transport.NoRepeatHttp)."""
    if http is None:
        http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=HTTP_TIMEOUT))
    return build_from_document(discovery_document(api_endpoint), http=http)


class GmailApi:
    """The service's resource collections, built once.

    ``service.users().messages()`` builds its methods from the discovery document on
    every call (milliseconds each): per message of a large sync that adds up.
    """

    def __init__(self, service: Any) -> None:
        self.service = service

    @cached_property
    def users(self) -> Any:
        return self.service.users()

    @cached_property
    def messages(self) -> Any:
        return self.users.messages()

    @cached_property
    def history(self) -> Any:
        return self.users.history()

    @cached_property
    def threads(self) -> Any:
        return self.users.threads()

    @cached_property
    def drafts(self) -> Any:
        return self.users.drafts()

    def new_batch(self, callback: Any) -> Any:
        return self.service.new_batch_http_request(callback=callback)

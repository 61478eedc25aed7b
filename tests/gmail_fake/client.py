"""Building a real google-api-python-client Gmail service that talks to the fake.

``build(..., client_options={"api_endpoint": url})`` only moves the per-method URLs:
``service.new_batch_http_request()`` still posts to the discovery document's
``rootUrl + batchPath`` (``https://gmail.googleapis.com/batch``). Building from a copy
of the bundled discovery document whose ``rootUrl`` is the fake's URL moves both.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import TYPE_CHECKING, Any

from .protocol import JsonObj

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials

_STATIC_DOC: JsonObj | None = None
_STATIC_LOCK = threading.Lock()


def _static_gmail_document() -> JsonObj:
    global _STATIC_DOC
    with _STATIC_LOCK:
        if _STATIC_DOC is None:
            from googleapiclient.discovery_cache import get_static_doc

            text = get_static_doc("gmail", "v1")
            if text is None:
                raise RuntimeError("google-api-python-client ships no gmail v1 document")
            _STATIC_DOC = json.loads(text)
        return copy.deepcopy(_STATIC_DOC)


def gmail_discovery_document(root_url: str) -> JsonObj:
    """The bundled Gmail v1 discovery document with every root URL pointed at root_url."""
    doc = _static_gmail_document()
    root = root_url.rstrip("/") + "/"
    doc["rootUrl"] = root
    doc["mtlsRootUrl"] = root
    doc["baseUrl"] = root + doc.get("servicePath", "")
    return doc


def make_credentials(
    token_uri: str,
    refresh_token: str,
    *,
    client_id: str,
    client_secret: str,
    token: str | None = None,
) -> Credentials:
    """User credentials that refresh against token_uri (no scopes requested)."""
    from google.oauth2.credentials import Credentials

    return Credentials(  # type: ignore[no-untyped-call]
        token=token,
        refresh_token=refresh_token,
        token_uri=token_uri,
        client_id=client_id,
        client_secret=client_secret,
    )


def build_gmail_service(root_url: str, credentials: Any) -> Any:
    """A Gmail v1 ``Resource`` whose calls and batches all go to root_url."""
    from googleapiclient.discovery import build_from_document

    return build_from_document(gmail_discovery_document(root_url), credentials=credentials)

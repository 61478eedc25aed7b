"""One attempt to deliver: a signed POST to the checked address, redirects not followed.

The connection goes to an address ``address_check`` accepted, with the URL's host name
in the Host header and, for https, in SNI and the certificate check, so a DNS answer
that changes between the check and the connection cannot redirect the request. A 3xx
answer is a failure (a redirect could point anywhere, localhost included). Only the
start of the answer is read and kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import urllib3

from crm_core.webhooks import Attempt, Outgoing
from worker.webhooks.address_check import AddressRefusedError, Resolver, allowed_addresses
from worker.webhooks.address_check import system_resolver as default_resolver
from worker.webhooks.signing import signed_headers

ANSWER_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Policy:
    """What ``[webhooks]`` allows."""

    timeout_seconds: float = 10.0
    allow_private_networks: bool = False
    allow_http: bool = False


def deliver_once(
    outgoing: Outgoing, policy: Policy, *, resolve: Resolver = default_resolver
) -> Attempt:
    """Send it once; never raises for anything the receiver or the network does."""
    parts = urlsplit(outgoing.url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return Attempt(None, f"refused: not a web address: {outgoing.url}")
    if parts.scheme == "http" and not policy.allow_http:
        return Attempt(None, "refused: https is required (see [webhooks] allow_http)")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = allowed_addresses(
            host, port, allow_private=policy.allow_private_networks, resolve=resolve
        )
    except (AddressRefusedError, ValueError) as exc:
        return Attempt(None, f"refused: {exc}")
    headers = signed_headers(outgoing.secret, outgoing.webhook_id, datetime.now(UTC), outgoing.body)
    headers["host"] = host if parts.port is None else f"{host}:{parts.port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _post(parts.scheme, host, str(addresses[0]), port, path, headers, outgoing, policy)


def _post(
    scheme: str,
    host: str,
    address: str,
    port: int,
    path: str,
    headers: dict[str, str],
    outgoing: Outgoing,
    policy: Policy,
) -> Attempt:
    timeout = urllib3.Timeout(total=policy.timeout_seconds)
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=outgoing.body.encode(),
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            answer = response.read(ANSWER_BYTES, decode_content=False)
        finally:
            response.release_conn()
    except urllib3.exceptions.NewConnectionError as exc:  # a TimeoutError subclass in urllib3
        return Attempt(None, f"could not deliver: {_reason(exc)}")
    except urllib3.exceptions.TimeoutError:
        return Attempt(None, f"no answer within {policy.timeout_seconds:g} s")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return Attempt(None, f"could not deliver: {_reason(exc)}")
    finally:
        pool.close()
    text = answer.decode("utf-8", "replace")
    if 300 <= response.status < 400:
        where = response.headers.get("location", "")
        text = f"redirect to {where[:200]} not followed; {text}"
    return Attempt(response.status, text)


def _reason(exc: BaseException) -> str:
    """The innermost cause, in one line (urllib3 wraps what the socket said)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        inner = exc.__cause__ or exc.__context__
        assert inner is not None
        exc = inner
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]

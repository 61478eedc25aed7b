"""Test stand-ins for Google's token signing: RSA keys, a certificates server, JWTs.

Keys are generated at test time (once per process, 2048-bit RSA takes a moment); the
certificates server answers like https://www.googleapis.com/oauth2/v1/certs, a JSON object
``{key id: PEM certificate}`` with ``Cache-Control: max-age``, and counts its hits.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import google.auth.crypt
import google.auth.jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

AUDIENCE = "https://push.rendetalje.test/gmail/push"
SERVICE_ACCOUNT = "gmail-push@rendetalje-crm.iam.gserviceaccount.com"
ISSUER = "https://accounts.google.com"
SHARED_TOKEN = "s3cret-push-token-0123456789abcdef"

# Pass as a claim value to leave the claim out.
OMIT: Any = object()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    certificate_pem: str

    def sign(self, claims: Mapping[str, Any], *, kid: str | None = None) -> str:
        """A JWT over ``claims`` signed RS256 with this key, its header naming ``kid``
        (default: this key's own id)."""
        # The key object, not its PEM: loading a PEM re-validates the key (~0.1 s).
        signer = google.auth.crypt.RSASigner(  # type: ignore[no-untyped-call]
            self.private_key, key_id=kid or self.kid
        )
        token: bytes = google.auth.jwt.encode(signer, dict(claims))  # type: ignore[no-untyped-call]
        return token.decode()


def generate_signing_key(kid: str) -> SigningKey:
    """A fresh RSA key and a self-signed certificate for it, as Google publishes them."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=14))
        .sign(private_key, hashes.SHA256())
    )
    return SigningKey(
        kid=kid,
        private_key=private_key,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )


@functools.cache
def google_key() -> SigningKey:
    """The key the certificates server publishes: tokens it signs are genuine."""
    return generate_signing_key("google-key-1")


@functools.cache
def rotated_key() -> SigningKey:
    """A second genuine key, published only once a test rotates keys."""
    return generate_signing_key("google-key-2")


@functools.cache
def attacker_key() -> SigningKey:
    """A key nobody publishes."""
    return generate_signing_key("attacker-key")


def claims(**overrides: Any) -> dict[str, Any]:
    """The claims of a genuine Pub/Sub push token, with ``overrides`` (OMIT drops one)."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "azp": "112233445566778899000",
        "sub": "112233445566778899000",
        "email": SERVICE_ACCOUNT,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not OMIT}


def unsigned_token(payload: Mapping[str, Any], header: Mapping[str, Any]) -> str:
    """A JWT with the given header and an empty signature (``alg: none`` style)."""

    def segment(value: Mapping[str, Any]) -> str:
        raw = json.dumps(dict(value), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{segment(header)}.{segment(payload)}."


class CertsServer:
    """Serves ``{kid: PEM}`` for the published keys on 127.0.0.1 and counts requests."""

    def __init__(self, *keys: SigningKey, max_age: int | None = 3600) -> None:
        self.keys: list[SigningKey] = list(keys)
        self.max_age = max_age
        self.fail = False  # answer 500 instead of the document
        self._hits = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def hits(self) -> int:
        with self._lock:
            return self._hits

    def publish(self, *keys: SigningKey) -> None:
        self.keys = list(keys)

    def _document(self) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self._hits += 1
        if self.fail:
            return 500, {}, b"{}"
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        if self.max_age is not None:
            headers["Cache-Control"] = f"public, max-age={self.max_age}, must-revalidate"
        body = json.dumps({key.kid: key.certificate_pem for key in self.keys}).encode()
        return 200, headers, body

    def start(self) -> Self:
        certs = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = certs._document()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/oauth2/v1/certs"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

"""Who may call the Cloud Pub/Sub push endpoint.

Two ways in; a request carrying either one, valid, is accepted:

- OIDC (preferred; on when ``push.audience`` is set). Pub/Sub signs a Google ID token
  for the subscription's service account and sends ``Authorization: Bearer <JWT>``. We
  check the RS256 signature against Google's certificates (``push.certs_url``, fetched
  and cached), ``iss``, ``aud``, ``email`` (when ``push.service_account_email`` is set),
  ``email_verified`` and the validity window.
- A shared secret (on when ``push.shared_token`` is set): ``?token=…`` in the push URL
  or an ``X-Push-Token`` header, compared in constant time.

With neither configured every request is refused (and ``PushServer`` will not start).

Token values never reach a log line or an exception message. google-auth's own error
messages may quote the token, so they are reduced to a short reason here.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import google.auth.exceptions
import google.auth.jwt

from worker.config import PushSettings

logger = logging.getLogger(__name__)

# Google signs ID tokens with RS256 only. An explicit allow-list keeps "alg": "none" and
# algorithm-confusion tricks out whatever google-auth happens to support.
ALLOWED_ALGORITHMS = frozenset({"RS256"})
DEFAULT_CLOCK_SKEW_SECONDS = 30
SHARED_TOKEN_QUERY_PARAMETER = "token"  # noqa: S105 - a parameter name
SHARED_TOKEN_HEADER = "x-push-token"  # noqa: S105 - a header name


class PushAuthError(Exception):
    """The request is not authentic. ``reason`` is safe to log: it holds no token material."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MissingCredentialsError(PushAuthError):
    """The request carries no credentials at all (HTTP 401 rather than 403)."""


class CertificatesUnavailableError(Exception):
    """Google's signing certificates could not be fetched and none are cached.

    Not the caller's fault: the endpoint answers 503 so Pub/Sub retries later.
    """


class CertificateCache:
    """Google's ID-token signing certificates (``{key id: PEM certificate}``), cached.

    The document is kept for its ``Cache-Control: max-age`` (less ``Age``), else
    ``default_ttl``, never longer than ``max_ttl``. A token naming a key id we do not
    know triggers one refetch (Google rotates keys), but at most one per
    ``min_refetch_interval`` so forged key ids cannot make us hammer the URL. When a
    refetch fails the old certificates stay in use: Google publishes new keys well before
    it signs with them, and drops old ones only after their tokens have expired.
    """

    MAX_DOCUMENT_BYTES = 1024 * 1024

    def __init__(
        self,
        url: str,
        *,
        default_ttl: float = 3600,
        max_ttl: float = 24 * 3600,
        min_refetch_interval: float = 30,
        timeout: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if urllib.parse.urlsplit(url).scheme not in {"https", "http"}:
            raise ValueError(f"certificate URL must be http(s): {url!r}")
        self.url = url
        self._default_ttl = default_ttl
        self._max_ttl = max_ttl
        self._min_refetch_interval = min_refetch_interval
        self._timeout = timeout
        self._clock = clock
        # One lock for reads and fetches: concurrent requests wait for a single fetch
        # instead of each starting their own.
        self._lock = threading.Lock()
        self._certificates: dict[str, str] | None = None
        self._expires_at = 0.0
        self._last_attempt: float | None = None

    def certificate(self, key_id: str) -> str | None:
        """The PEM certificate for ``key_id``, or None when Google does not publish it.

        Raises CertificatesUnavailableError when nothing could ever be fetched.
        """
        with self._lock:
            now = self._clock()
            if self._certificates is None or now >= self._expires_at:
                self._refresh(now)
            assert self._certificates is not None
            found = self._certificates.get(key_id)
            if found is None and self._may_fetch(now):
                self._refresh(now)
                found = self._certificates.get(key_id)
            return found

    def _may_fetch(self, now: float) -> bool:
        return self._last_attempt is None or now - self._last_attempt >= self._min_refetch_interval

    def _refresh(self, now: float) -> None:
        if not self._may_fetch(now):
            if self._certificates is None:
                raise CertificatesUnavailableError(
                    f"no certificates from {self.url} (retrying soon)"
                )
            return
        self._last_attempt = now
        try:
            certificates, ttl = self._fetch()
        except (OSError, ValueError) as exc:
            if self._certificates is None:
                raise CertificatesUnavailableError(
                    f"cannot fetch certificates from {self.url}: {exc}"
                ) from exc
            logger.warning(
                "cannot refresh certificates from %s, keeping the cached ones: %s", self.url, exc
            )
            self._expires_at = now + self._min_refetch_interval
            return
        self._certificates = certificates
        self._expires_at = now + ttl
        logger.info("fetched %d signing certificates from %s", len(certificates), self.url)

    def _fetch(self) -> tuple[dict[str, str], float]:
        # The scheme was checked in __init__ (no file: URLs).
        request = urllib.request.Request(  # noqa: S310
            self.url, headers={"Accept": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
            body = response.read(self.MAX_DOCUMENT_BYTES + 1)
            cache_control = response.headers.get("Cache-Control", "")
            age = response.headers.get("Age", "")
        if len(body) > self.MAX_DOCUMENT_BYTES:
            raise ValueError("certificate document too large")
        return _parse_certificates(json.loads(body)), self._ttl(cache_control, age)

    def _ttl(self, cache_control: str, age: str) -> float:
        match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cache_control, re.IGNORECASE)
        if match is None:
            return self._default_ttl
        ttl = float(match.group(1)) - (float(age) if age.strip().isdigit() else 0.0)
        # A tiny or zero max-age would mean one fetch per push request.
        return min(self._max_ttl, max(self._min_refetch_interval, ttl))


def _parse_certificates(document: Any) -> dict[str, str]:
    if isinstance(document, dict) and "keys" in document:
        raise ValueError(
            "the certificate URL serves a JWK set; use the PEM endpoint "
            "https://www.googleapis.com/oauth2/v1/certs"
        )
    if not isinstance(document, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in document.items()
    ):
        raise ValueError("certificate document is not a {key id: PEM certificate} object")
    return dict(document)


class PushAuthenticator:
    """Decides whether a push request really comes from our Pub/Sub subscription."""

    def __init__(
        self,
        settings: PushSettings,
        *,
        certificates: CertificateCache | None = None,
        clock_skew_seconds: int = DEFAULT_CLOCK_SKEW_SECONDS,
    ) -> None:
        self._audience = settings.audience or None
        self._service_account_email = settings.service_account_email or None
        self._issuers = frozenset(settings.issuers)
        secret = settings.shared_token.get_secret_value() if settings.shared_token else ""
        # An empty secret would match an empty ?token=, so it counts as not configured.
        self._shared_token = secret.encode() if secret else None
        self._clock_skew_seconds = clock_skew_seconds
        self._certificates: CertificateCache | None = None
        if self._audience is not None:
            self._certificates = certificates or CertificateCache(settings.certs_url)
            if self._service_account_email is None:
                # Anyone can get a Google-signed ID token with any audience they like; only
                # the email claim ties the token to our subscription's service account.
                logger.warning(
                    "push.audience is set without push.service_account_email: any Google "
                    "account can mint a token for this audience"
                )

    @property
    def oidc_enabled(self) -> bool:
        return self._audience is not None

    @property
    def shared_token_enabled(self) -> bool:
        return self._shared_token is not None

    @property
    def configured(self) -> bool:
        """False when no request can ever be accepted."""
        return self.oidc_enabled or self.shared_token_enabled

    def authenticate(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """Return when the request is authentic, else raise PushAuthError.

        ``headers`` may use any letter case. Raises MissingCredentialsError when the request
        carries none of the accepted credentials, and CertificatesUnavailableError when a
        bearer token cannot be checked for want of Google's certificates.
        """
        if not self.configured:
            raise PushAuthError("push authentication is not configured")
        fields = {name.lower(): value for name, value in headers.items()}
        failures: list[str] = []

        authorization = fields.get("authorization", "").strip()
        if self.oidc_enabled and authorization:
            try:
                self._verify_bearer(authorization)
                return
            except PushAuthError as exc:
                failures.append(exc.reason)

        presented = [
            value
            for value in (query.get(SHARED_TOKEN_QUERY_PARAMETER), fields.get(SHARED_TOKEN_HEADER))
            if value
        ]
        if self._shared_token is not None and presented:
            if any(self._matches_shared_token(value) for value in presented):
                return
            failures.append("wrong shared token")

        if not failures:
            raise MissingCredentialsError(f"no credentials; expected {self._expected()}")
        raise PushAuthError("; ".join(failures))

    def _expected(self) -> str:
        ways = []
        if self.oidc_enabled:
            ways.append("an Authorization: Bearer ID token")
        if self.shared_token_enabled:
            ways.append("the shared token")
        return " or ".join(ways)

    def _matches_shared_token(self, presented: str) -> bool:
        assert self._shared_token is not None
        return hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), self._shared_token)

    def _verify_bearer(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise PushAuthError("Authorization header is not a bearer token")
        claims = self._verified_claims(token)

        if claims.get("iss") not in self._issuers:
            raise PushAuthError("token from an unexpected issuer")
        # google-auth checked aud already; an exact string comparison costs nothing and
        # also rules out list-valued audiences.
        if claims.get("aud") != self._audience:
            raise PushAuthError("token for another audience")
        if self._service_account_email is not None:
            email = claims.get("email")
            if not isinstance(email, str) or (
                email.casefold() != self._service_account_email.casefold()
            ):
                raise PushAuthError("token for another service account")
        if claims.get("email_verified") is not True:
            raise PushAuthError("token email is not verified")

    def _verified_claims(self, token: str) -> Mapping[str, Any]:
        """Signature and validity window checked; the claims, else PushAuthError."""
        assert self._certificates is not None
        try:
            header = google.auth.jwt.decode_header(token)  # type: ignore[no-untyped-call]
        except Exception:  # any decoding failure: base64, JSON, segment count
            raise PushAuthError("malformed token") from None
        if not isinstance(header, Mapping):
            raise PushAuthError("malformed token")
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise PushAuthError("token signing algorithm not allowed")
        key_id = header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise PushAuthError("token names no signing key")
        certificate = self._certificates.certificate(key_id)
        if certificate is None:
            raise PushAuthError("token signed with an unknown key")
        try:
            claims = google.auth.jwt.decode(  # type: ignore[no-untyped-call]
                token,
                certs={key_id: certificate},
                audience=self._audience,
                clock_skew_in_seconds=self._clock_skew_seconds,
            )
        except google.auth.exceptions.GoogleAuthError as exc:
            raise PushAuthError(_rejection_reason(exc)) from None
        except (ValueError, TypeError):
            raise PushAuthError("malformed token") from None
        if not isinstance(claims, Mapping):
            raise PushAuthError("malformed token")
        return claims


def _rejection_reason(exc: Exception) -> str:
    """A short, token-free reason for a google-auth rejection."""
    message = str(exc).lower()
    if "signature" in message:
        return "bad token signature"
    if "expired" in message:
        return "token expired"
    if "too early" in message:
        return "token not valid yet"
    if "audience" in message:
        return "token for another audience"
    if "required claim" in message:
        return "token lacks iat or exp"
    return "invalid token"

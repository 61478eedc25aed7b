"""The OAuth 2.0 token endpoint (refresh_token grant) and bearer-token checks."""

from __future__ import annotations

import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .protocol import ApiRequest, ApiResponse

DEFAULT_CLIENT_ID = "fake-client-id.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "fake-client-secret"
DEFAULT_SCOPES: tuple[str, ...] = ("https://www.googleapis.com/auth/gmail.readonly",)
DEFAULT_ACCESS_TOKEN_TTL = 3599


@dataclass
class _RefreshGrant:
    email: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass
class _AccessGrant:
    email: str
    refresh_token: str | None
    expires_at: float
    revoked: bool = False


def _oauth_error(status: int, error: str, description: str) -> ApiResponse:
    return ApiResponse.json({"error": error, "error_description": description}, status)


class TokenAuthority:
    """Issues opaque access tokens for refresh tokens, each bound to one mailbox owner."""

    def __init__(
        self,
        *,
        client_id: str | None = DEFAULT_CLIENT_ID,
        client_secret: str | None = DEFAULT_CLIENT_SECRET,
        access_token_ttl: int = DEFAULT_ACCESS_TOKEN_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_ttl = access_token_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._refresh: dict[str, _RefreshGrant] = {}
        self._access: dict[str, _AccessGrant] = {}
        self.refreshes: dict[str, int] = {}  # email -> access tokens issued via /token

    def register(
        self, email: str, refresh_token: str | None = None, scopes: Iterable[str] = DEFAULT_SCOPES
    ) -> str:
        token = refresh_token or "1//fake-" + secrets.token_urlsafe(24)
        with self._lock:
            existing = self._refresh.get(token)
            if existing is not None and existing.email.lower() != email.lower():
                raise ValueError(f"refresh token already belongs to {existing.email}")
            self._refresh[token] = _RefreshGrant(email, tuple(scopes))
        return token

    def revoke(self, token: str) -> None:
        """Revoke a refresh token (and every access token issued from it) or an access token."""
        with self._lock:
            grant = self._refresh.get(token)
            if grant is not None:
                grant.revoked = True
                for access in self._access.values():
                    if access.refresh_token == token:
                        access.revoked = True
            access_grant = self._access.get(token)
            if access_grant is not None:
                access_grant.revoked = True
            if grant is None and access_grant is None:
                raise KeyError(f"unknown token {token[:12]}…")

    def expire_access_tokens(self) -> None:
        with self._lock:
            now = self._clock()
            for access in self._access.values():
                access.expires_at = min(access.expires_at, now - 1)

    def issue(self, email: str, refresh_token: str | None = None) -> str:
        token = "ya29.fake-" + secrets.token_urlsafe(32)
        with self._lock:
            self._access[token] = _AccessGrant(
                email, refresh_token, self._clock() + self.access_token_ttl
            )
        return token

    def resolve(self, access_token: str | None) -> str | None:
        """The email an unexpired, unrevoked access token belongs to, else None."""
        if not access_token:
            return None
        with self._lock:
            grant = self._access.get(access_token)
            if grant is None or grant.revoked or grant.expires_at <= self._clock():
                return None
            return grant.email

    def scopes_of(self, access_token: str | None) -> frozenset[str]:
        """The scopes granted to the refresh token an access token was issued from."""
        if not access_token:
            return frozenset()
        with self._lock:
            access = self._access.get(access_token)
            grant = self._refresh.get(access.refresh_token or "") if access else None
            return frozenset(grant.scopes) if grant else frozenset()

    def handle_token_request(self, req: ApiRequest) -> ApiResponse:
        if req.method != "POST":
            return _oauth_error(405, "invalid_request", "Token requests must be POSTed.")
        form = {
            k: v[-1]
            for k, v in urllib.parse.parse_qs(
                req.body.decode("utf-8", "replace"), keep_blank_values=True
            ).items()
        }
        grant_type = form.get("grant_type")
        if grant_type != "refresh_token":
            return _oauth_error(
                400, "unsupported_grant_type", f"Invalid grant_type: {grant_type or ''}"
            )
        if self.client_id is not None and form.get("client_id") != self.client_id:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return _oauth_error(401, "invalid_client", "Unauthorized")
        refresh_token = form.get("refresh_token", "")
        with self._lock:
            grant = self._refresh.get(refresh_token)
            valid = grant is not None and not grant.revoked
        if grant is None or not valid:
            return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        access_token = self.issue(grant.email, refresh_token)
        with self._lock:
            self.refreshes[grant.email] = self.refreshes.get(grant.email, 0) + 1
        scope = form.get("scope") or " ".join(grant.scopes)
        body = {
            "access_token": access_token,
            "expires_in": self.access_token_ttl,
            "token_type": "Bearer",
        }
        if scope:
            body["scope"] = scope
        return ApiResponse.json(body, headers=(("Cache-Control", "no-store"),))

"""Webhook endpoints: the URLs that receive events, their subscriptions and secrets.

A secret is ``whsec_`` + base64 of 24 random bytes (the Standard Webhooks form). It is
kept in the database because every delivery is signed with it; it is shown once, when
the endpoint is created or the secret rotated, and masked (``mask_secret``) everywhere
else. Which addresses a URL may point at is checked at delivery time, after DNS
resolution (worker/webhooks/address_check.py); here only its form is checked.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.errors import NotFoundError, ValidationError
from crm_core.ids import new_id
from crm_core.models.webhook import WebhookEndpoint
from crm_core.paging import DEFAULT_LIMIT, Page, paginate
from crm_core.webhooks.events import ALL, EMITTED, EVENT_TYPES, forget_subscriptions


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def mask_secret(secret: str) -> str:
    """``whsec_…`` and the last four characters: enough to tell two secrets apart."""
    return f"whsec_…{secret[-4:]}" if len(secret) > 10 else "whsec_…"


def checked_url(url: str, *, allow_http: bool) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValidationError(f"not a web address: {url!r}; give https://host/path")
    if parts.scheme == "http" and not allow_http:
        raise ValidationError(
            f"{url!r} is not https; webhooks carry customer data, so https is required "
            "(set [webhooks] allow_http = true for a test receiver)"
        )
    if parts.username or parts.password:
        raise ValidationError("put no user name or password in the URL; verify the signature")
    if len(url) > 2000:
        raise ValidationError("the URL is longer than 2,000 characters")
    return url


def checked_event_types(types: Sequence[str]) -> list[str]:
    wanted = [t.strip() for t in types if t.strip()]
    if not wanted:
        raise ValidationError("name the events to send (--events customer.created …, or '*')")
    if ALL in wanted:
        return [ALL]
    unknown = [t for t in wanted if t not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            f"unknown event type {unknown[0]!r}; expected '*' or one of: {', '.join(EVENT_TYPES)}"
        )
    return list(dict.fromkeys(wanted))


def subscribes_to(endpoint: WebhookEndpoint, type: str) -> bool:
    return ALL in endpoint.event_types or type in endpoint.event_types


def add_endpoint(
    session: Session,
    url: str,
    event_types: Sequence[str],
    *,
    description: str | None = None,
    include_bodies: bool = False,
    allow_http: bool = False,
) -> WebhookEndpoint:
    """A new, enabled endpoint; it receives the events committed from now on."""
    if description is not None and len(description) > 500:
        raise ValidationError("the description is longer than 500 characters")
    endpoint = WebhookEndpoint(
        id=new_id(),
        url=checked_url(url, allow_http=allow_http),
        description=description,
        event_types=checked_event_types(event_types),
        secret=new_secret(),
        include_bodies=include_bodies,
        enabled=True,
    )
    session.add(endpoint)
    forget_subscriptions(session)
    session.flush()
    return endpoint


def get_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFoundError("webhook endpoint", endpoint_id)
    return endpoint


def list_endpoints(
    session: Session, *, limit: int | None = DEFAULT_LIMIT, after: str | None = None
) -> Page[WebhookEndpoint]:
    return paginate(
        session,
        select(WebhookEndpoint),
        keys=[WebhookEndpoint.created_at, WebhookEndpoint.id],
        limit=limit,
        after=after,
    )


def fan_out_wanted(session: Session) -> bool:
    """Did this transaction write events that an endpoint waits for? Asked before the
    commit (and only once: the mark is taken off). Without endpoints the events wait
    for the periodic sweep, and the commit sends no job."""
    if not session.info.pop(EMITTED, False):
        return False
    return (
        session.execute(
            select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True)).limit(1)
        ).first()
        is not None
    )


def disable_endpoint(
    session: Session, endpoint_id: str, reason: str = "disabled by hand"
) -> WebhookEndpoint:
    """Stop delivering to it. Its deliveries, and those of the events from now on,
    wait: ``enable`` sends them, in order."""
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:500]
    session.flush()
    return endpoint


def enable_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.failing_since = None
    session.flush()
    return endpoint


def remove_endpoint(session: Session, endpoint_id: str) -> None:
    """Delete it and its delivery log."""
    session.delete(get_endpoint(session, endpoint_id))
    forget_subscriptions(session)
    session.flush()


def rotate_secret(session: Session, endpoint_id: str) -> WebhookEndpoint:
    """A new secret; deliveries from now on are signed with it."""
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.secret = new_secret()
    session.flush()
    return endpoint

"""From events to deliveries, and each delivery's attempts.

Fan-out (``fan_out``) runs after the commit that wrote events (a job sent by the unit
of work) and in a periodic sweep, so an event whose job was lost is fanned out anyway:
each event not yet fanned out gets a delivery per endpoint subscribed to its type, and
is marked fanned out, in one transaction. A disabled endpoint gets its deliveries too:
they wait, and go out in order when it is enabled again.

Order: an endpoint's deliveries are attempted one at a time, lowest event ``seq`` first
(``next_delivery``); the next waits until the one before succeeded or failed for good.
A lease on the endpoint row (``claim_endpoint``) keeps a second job from delivering to
the same endpoint at the same time; a job that dies holding it lets it lapse, and the
sweep starts a new job.

Events are numbered when written, and two transactions writing events at the same time
may commit in the other order. So the fan-out stops at a gap in the numbers (an event
written but not yet committed) and waits for it, up to ``GAP_GRACE`` (a rolled-back
transaction leaves a gap for good). Only a transaction still open after that can have
its events delivered after later-numbered ones. Changes to one record lock that
record, so its events are always numbered, and delivered, in the order they happened.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from crm_core.errors import NotFoundError, ValidationError
from crm_core.ids import new_id
from crm_core.models import EmailMessage
from crm_core.models.types import utcnow
from crm_core.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookEvent
from crm_core.paging import DEFAULT_LIMIT, Page, paginate
from crm_core.statuses import DeliveryStatus
from crm_core.upsert import insert_many_ignore
from crm_core.webhooks.endpoints import get_endpoint, subscribes_to
from crm_core.webhooks.events import PING

FAN_OUT_BATCH = 1000
# What is kept of a receiver's answer (or of the error), per delivery.
RESPONSE_CHARS = 1000
# Seconds between attempts: about three days in all (Standard Webhooks' schedule).
RETRY_DELAYS: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
_FAN_OUT_LOCK = 0x5EB400C5  # PostgreSQL advisory lock: one fan-out at a time
GAP_GRACE = timedelta(seconds=5)


def fan_out(session: Session, batch: int = FAN_OUT_BATCH) -> tuple[int, list[str]]:
    """Fan out up to ``batch`` events: ``(events, ids of the enabled endpoints given
    deliveries)``."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialised so that deliveries are created in seq order, never interleaved.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FAN_OUT_LOCK})
    candidates = session.execute(
        select(WebhookEvent.seq, WebhookEvent.type, WebhookEvent.created_at)
        .where(WebhookEvent.fanned_out.is_(False))
        .order_by(WebhookEvent.seq)
        .limit(batch)
    ).all()
    now = utcnow()
    events = _up_to_gap(session, candidates, now)
    if not events:
        return 0, []
    endpoints = list(session.execute(select(WebhookEndpoint)).scalars())
    rows = [
        {
            "id": new_id(),
            "endpoint_id": endpoint.id,
            "event_seq": seq,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for seq, type, created_at in events
        for endpoint in endpoints
        # An endpoint gets the events committed after it was added.
        if subscribes_to(endpoint, type) and created_at >= endpoint.created_at
    ]
    insert_many_ignore(
        session,
        WebhookDelivery.__table__,  # type: ignore[arg-type]
        rows,
        conflict=["endpoint_id", "event_seq"],
    )
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.seq.in_([seq for seq, _, _ in events]))
        .values(fanned_out=True)
        .execution_options(synchronize_session=False)
    )
    enabled = {endpoint.id for endpoint in endpoints if endpoint.enabled}
    given = {str(row["endpoint_id"]) for row in rows}
    return len(events), sorted(given & enabled)


def _up_to_gap(session: Session, candidates: Sequence[Any], now: datetime) -> list[Any]:
    """The candidates before the first gap in the numbering that is still young."""
    if not candidates:
        return []
    last = session.execute(
        select(func.max(WebhookEvent.seq)).where(
            WebhookEvent.fanned_out.is_(True), WebhookEvent.seq < candidates[0][0]
        )
    ).scalar()
    taken: list[Any] = []
    for event in candidates:
        seq, _, created_at = event
        if last is not None and seq != last + 1 and created_at > now - GAP_GRACE:
            break  # an earlier event may still commit: wait for it
        taken.append(event)
        last = seq
    return taken


def claim_endpoint(session: Session, endpoint_id: str, lease_seconds: float) -> bool:
    """Take the endpoint's delivery lease (False: disabled, or another job holds it)."""
    now = utcnow()
    claimed = session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.enabled.is_(True),
            or_(WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until < now),
        )
        .values(lease_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def extend_lease(session: Session, endpoint_id: str, lease_seconds: float) -> None:
    session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )


def release_endpoint(session: Session, endpoint_id: str) -> None:
    session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(lease_until=None)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery ready to send: what goes on the wire, and when it is due."""

    delivery_id: str
    webhook_id: str  # the same for every attempt: receivers de-duplicate on it
    url: str
    secret: str
    body: str
    due_at: datetime
    attempts: int


def next_delivery(session: Session, endpoint_id: str) -> Outgoing | None:
    """The endpoint's pending delivery with the lowest event seq (due or not)."""
    row = session.execute(
        select(WebhookDelivery, WebhookEvent, WebhookEndpoint)
        .join(WebhookEvent, WebhookEvent.seq == WebhookDelivery.event_seq)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookEndpoint.enabled.is_(True),
        )
        .order_by(WebhookDelivery.event_seq)
        .limit(1)
    ).first()
    if row is None:
        return None
    delivery, event, endpoint = row
    return Outgoing(
        delivery_id=delivery.id,
        webhook_id=f"{event.id}_{endpoint.id}",
        url=endpoint.url,
        secret=endpoint.secret,
        body=json.dumps(
            {
                "type": event.type,
                "timestamp": event.created_at.isoformat(),
                "data": _data(session, event, endpoint),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ),
        due_at=delivery.next_attempt_at or delivery.created_at,
        attempts=delivery.attempts,
    )


def _data(session: Session, event: WebhookEvent, endpoint: WebhookEndpoint) -> dict[str, Any]:
    data = dict(event.payload)
    if endpoint.include_bodies and event.type in {"message.received", "message.sent"}:
        message = session.get(EmailMessage, str(data.get("id")))
        data["body"] = message.body if message is not None else None
    return data


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt came to. ``status`` None: no answer (refused, timed out, …)."""

    status: int | None
    text: str  # the start of the answer, or what went wrong

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def record_attempt(
    session: Session,
    delivery_id: str,
    attempt: Attempt,
    *,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    disable_after: timedelta = timedelta(days=5),
) -> WebhookDelivery:
    """Store the outcome; schedule the next attempt, or give up, or disable the endpoint.

    410 Gone disables the endpoint at once. Otherwise the delivery is tried again after
    ``retry_delays[n]`` (with ±10 % jitter, so that many endpoints coming back together
    are not hit at the same second) and fails for good when they run out. An endpoint
    that has failed without a single success for ``disable_after`` is disabled.
    """
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFoundError("webhook delivery", delivery_id)
    endpoint = get_endpoint(session, delivery.endpoint_id)
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = attempt.status
    delivery.response_body = attempt.text[:RESPONSE_CHARS]
    if attempt.succeeded:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.next_attempt_at = None
        endpoint.failing_since = None
    elif attempt.status == 410:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        endpoint.enabled = False
        endpoint.disabled_reason = "the receiver answered 410 Gone"
    else:
        endpoint.failing_since = endpoint.failing_since or now
        if delivery.attempts > len(retry_delays):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delay = retry_delays[delivery.attempts - 1] * random.uniform(0.9, 1.1)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        if now - endpoint.failing_since >= disable_after:
            endpoint.enabled = False
            endpoint.disabled_reason = (
                f"every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
            )
    session.flush()
    return delivery


def endpoints_due(session: Session) -> list[str]:
    """Enabled endpoints with a pending delivery due now and no job holding their lease."""
    now = utcnow()
    return list(
        session.execute(
            select(WebhookEndpoint.id)
            .where(
                WebhookEndpoint.enabled.is_(True),
                or_(WebhookEndpoint.lease_until.is_(None), WebhookEndpoint.lease_until < now),
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.endpoint_id == WebhookEndpoint.id,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                )
                .exists(),
            )
            .order_by(WebhookEndpoint.id)
        ).scalars()
    )


def ping(session: Session, endpoint_id: str) -> WebhookDelivery:
    """A ``webhook.ping`` event for this endpoint alone (``crm webhook test``)."""
    endpoint = get_endpoint(session, endpoint_id)
    if not endpoint.enabled:
        raise ValidationError(f"webhook {endpoint_id} is disabled; enable it first")
    event = WebhookEvent(
        id=f"evt_{new_id()}",
        type=PING,
        customer_id=None,
        payload={"endpoint_id": endpoint.id},
        fanned_out=True,
        created_at=utcnow(),
    )
    session.add(event)
    session.flush()
    delivery = WebhookDelivery(
        id=new_id(),
        endpoint_id=endpoint.id,
        event_seq=event.seq,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(delivery)
    session.flush()
    return delivery


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    delivery: WebhookDelivery
    event_type: str
    event_id: str


def get_delivery(session: Session, delivery_id: str) -> DeliveryRow:
    """One delivery, with its event's type and id."""
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        raise NotFoundError("webhook delivery", delivery_id)
    event = session.get_one(WebhookEvent, delivery.event_seq)
    return DeliveryRow(delivery, event.type, event.id)


def list_deliveries(
    session: Session,
    endpoint_id: str | None = None,
    *,
    failed: bool = False,
    limit: int | None = DEFAULT_LIMIT,
    after: str | None = None,
) -> Page[DeliveryRow]:
    """Deliveries, newest first; ``failed`` keeps those that failed for good or whose
    last attempt failed."""
    statement = select(WebhookDelivery)
    if endpoint_id is not None:
        get_endpoint(session, endpoint_id)
        statement = statement.where(WebhookDelivery.endpoint_id == endpoint_id)
    if failed:
        statement = statement.where(
            or_(
                WebhookDelivery.status == DeliveryStatus.FAILED,
                (WebhookDelivery.status == DeliveryStatus.PENDING) & (WebhookDelivery.attempts > 0),
            )
        )
    page = paginate(
        session,
        statement,
        keys=[WebhookDelivery.created_at, WebhookDelivery.id],
        limit=limit,
        after=after,
    )
    events = {
        seq: (type, id)
        for seq, type, id in session.execute(
            select(WebhookEvent.seq, WebhookEvent.type, WebhookEvent.id).where(
                WebhookEvent.seq.in_({d.event_seq for d in page.items})
            )
        )
    }
    rows = [DeliveryRow(d, *events[d.event_seq]) for d in page.items]
    return Page(rows, page.total, page.next_after)


def replay(
    session: Session,
    *,
    delivery_id: str | None = None,
    since: datetime | None = None,
    endpoint_id: str | None = None,
) -> list[str]:
    """Deliver again: one delivery, or every delivery of events since a time (of one
    endpoint, or all). They go out again in seq order, under the same webhook-id.
    Returns the ids of the endpoints concerned."""
    if (delivery_id is None) == (since is None):
        raise ValidationError("give either a delivery id or --since TIME")
    if delivery_id is not None and endpoint_id is not None:
        raise ValidationError("--endpoint goes with --since: a delivery has its own endpoint")
    statement = update(WebhookDelivery)
    if delivery_id is not None:
        if session.get(WebhookDelivery, delivery_id) is None:
            raise NotFoundError("webhook delivery", delivery_id)
        statement = statement.where(WebhookDelivery.id == delivery_id)
    else:
        seqs = select(WebhookEvent.seq).where(WebhookEvent.created_at >= since)
        statement = statement.where(WebhookDelivery.event_seq.in_(seqs))
        if endpoint_id is not None:
            get_endpoint(session, endpoint_id)
            statement = statement.where(WebhookDelivery.endpoint_id == endpoint_id)
    endpoints = session.execute(
        statement.values(status=DeliveryStatus.PENDING, next_attempt_at=utcnow())
        .returning(WebhookDelivery.endpoint_id)
        .execution_options(synchronize_session=False)
    ).scalars()
    return sorted(set(endpoints))


@dataclass(frozen=True, slots=True)
class WebhookHealth:
    """For `crm status` and the metrics."""

    endpoints: int
    disabled: int
    failing: int  # enabled, and their latest attempts failed
    pending: int
    failed: int
    not_fanned_out: int
    disabled_reasons: dict[str, str]


def webhook_health(session: Session) -> WebhookHealth:
    endpoints = list(session.execute(select(WebhookEndpoint)).scalars())
    counts = dict(
        session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        ).all()
    )
    waiting = session.execute(
        select(func.count()).where(WebhookEvent.fanned_out.is_(False))
    ).scalar_one()
    return WebhookHealth(
        endpoints=len(endpoints),
        disabled=sum(not e.enabled for e in endpoints),
        failing=sum(e.enabled and e.failing_since is not None for e in endpoints),
        pending=int(counts.get(DeliveryStatus.PENDING, 0)),
        failed=int(counts.get(DeliveryStatus.FAILED, 0)),
        not_fanned_out=int(waiting),
        disabled_reasons={e.id: e.disabled_reason or "" for e in endpoints if not e.enabled},
    )


PRUNE_CHUNK = 500


def prune_events(session: Session, older_than: datetime, limit: int = PRUNE_CHUNK) -> int:
    """Delete up to ``limit`` of the oldest events written before ``older_than`` that
    were fanned out and have no delivery still pending (their deliveries go with them).
    Returns how many; the sweep calls it until none are left."""
    pending = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.event_seq == WebhookEvent.seq,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .exists()
    )
    seqs = list(
        session.execute(
            select(WebhookEvent.seq)
            .where(
                WebhookEvent.created_at < older_than,
                WebhookEvent.fanned_out.is_(True),
                ~pending,
            )
            .order_by(WebhookEvent.seq)
            .limit(limit)
        ).scalars()
    )
    if not seqs:
        return 0
    # Their deliveries go with them (ON DELETE CASCADE).
    session.execute(
        delete(WebhookEvent)
        .where(WebhookEvent.seq.in_(seqs))
        .execution_options(synchronize_session=False)
    )
    return len(seqs)

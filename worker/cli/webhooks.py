"""``crm webhook``: endpoints that receive the CRM's events, and their deliveries.

The signing secret is printed once, by ``add`` and ``rotate-secret``; everywhere else
it is masked. Deliveries happen in the workers (or, with the inline broker, in the
command that caused them); ``test`` and ``replay`` start them at once.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crm_core import webhooks
from crm_core.models.webhook import WebhookEndpoint
from worker.cli.context import runtime_for, session_for, settings_of
from worker.cli.conversations import parse_since
from worker.cli.output import (
    EMPTY,
    JsonFlag,
    Line,
    emit,
    format_datetime,
    jsonable,
    print_json,
    success,
    table,
    text_or_empty,
)
from worker.cli.paging import AfterOption, AllOption, page_footer

app = typer.Typer(
    help="Webhooks: send the CRM's events to other systems, signed.", no_args_is_help=True
)

EndpointId = Annotated[str, typer.Argument(help="Webhook endpoint ID.", show_default=False)]
Limit = Annotated[int, typer.Option(min=1, help="Show at most this many.")]
DEFAULT_PAGE = 50


def _endpoint_dict(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.event_types),
        "include_bodies": endpoint.include_bodies,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": jsonable(endpoint.failing_since),
        "secret": secret if secret is not None else webhooks.mask_secret(endpoint.secret),
        "created_at": jsonable(endpoint.created_at),
    }


def _fields(endpoint: WebhookEndpoint, secret: str | None = None) -> list[tuple[str, str]]:
    state = "enabled" if endpoint.enabled else f"disabled ({endpoint.disabled_reason or '-'})"
    fields = [
        ("ID", endpoint.id),
        ("URL", endpoint.url),
        ("Events", ", ".join(endpoint.event_types)),
        ("Bodies", "included" if endpoint.include_bodies else "left out"),
        ("State", state),
        ("Secret", secret if secret is not None else webhooks.mask_secret(endpoint.secret)),
    ]
    if endpoint.description:
        fields.insert(2, ("Description", endpoint.description))
    if endpoint.failing_since is not None:
        fields.append(("Failing since", format_datetime(endpoint.failing_since)))
    return fields


def _start_deliveries(
    ctx: typer.Context, endpoint_ids: list[str], *, fan_out: bool = True
) -> str | None:
    """Send delivery jobs now (after the commit); a note when they must wait.
    ``fan_out``: also fan out events that waited for an enabled endpoint."""
    if not endpoint_ids:
        return None
    from worker.runtime import enqueue, sending

    try:
        runtime_for(ctx)
        with sending():
            if fan_out:
                enqueue("webhook_fan_out")
            for endpoint_id in endpoint_ids:
                enqueue("deliver_webhooks", endpoint_id)
    except Exception as exc:
        return f"Not started now ({type(exc).__name__}); the worker's next sweep delivers."
    return None


@app.command("add")
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Where to POST the events (https://…).")],
    events: Annotated[
        list[str],
        typer.Option(
            "--events",
            help="Event types (repeat, or comma-separated), or '*' for all.",
            show_default=False,
        ),
    ],
    description: Annotated[
        str | None, typer.Option("--description", help="What this endpoint is for.")
    ] = None,
    include_bodies: Annotated[
        bool,
        typer.Option(
            "--include-bodies", help="Put mail bodies in message events (left out by default)."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add an endpoint; its signing secret is shown this once."""
    types = [part for value in events for part in value.split(",")]
    allow_http = settings_of(ctx).webhooks.allow_http
    with session_for(ctx) as session:
        endpoint = webhooks.add_endpoint(
            session,
            url,
            types,
            description=description,
            include_bodies=include_bodies,
            allow_http=allow_http,
        )
        secret = endpoint.secret
        data = _endpoint_dict(endpoint, secret)
        fields = _fields(endpoint, secret)
    if as_json:
        print_json(data)
        return
    emit(
        [
            *success(f"Webhook {data['id']} added.", fields),
            "Keep the secret now: it is not shown again (rotate-secret makes a new one).",
        ]
    )


@app.command("list")
def list_endpoints(
    ctx: typer.Context,
    limit: Limit = DEFAULT_PAGE,
    after: AfterOption = None,
    show_all: AllOption = False,
    as_json: JsonFlag = False,
) -> None:
    """Endpoints, newest first (secrets masked)."""
    with session_for(ctx) as session:
        page = webhooks.list_endpoints(session, limit=None if show_all else limit, after=after)
        data = [_endpoint_dict(e) for e in page.items]
    if as_json:
        print_json({"total": page.total.count, "next_after": page.next_after, "webhooks": data})
        return
    rows = [
        [
            d["id"],
            d["url"][:60],
            ", ".join(d["events"])[:40],
            "enabled" if d["enabled"] else "disabled",
            text_or_empty(d["description"])[:30],
        ]
        for d in data
    ]
    lines: list[Line] = [*table(["ID", "URL", "Events", "State", "Description"], rows)]
    again = "crm webhook list" + (f" --limit {limit}" if limit != DEFAULT_PAGE else "")
    lines += page_footer(page, "webhook", next_command=again)
    emit(lines)


@app.command("show")
def show(ctx: typer.Context, endpoint_id: EndpointId, as_json: JsonFlag = False) -> None:
    """One endpoint and its delivery figures."""
    with session_for(ctx) as session:
        endpoint = webhooks.get_endpoint(session, endpoint_id)
        data = _endpoint_dict(endpoint)
        fields = _fields(endpoint)
    if as_json:
        print_json(data)
    else:
        emit(success(f"Webhook {endpoint_id}", fields))


@app.command("disable")
def disable(ctx: typer.Context, endpoint_id: EndpointId) -> None:
    """Stop delivering to it; its events wait, and go out in order on `enable`."""
    with session_for(ctx) as session:
        webhooks.disable_endpoint(session, endpoint_id)
    emit(success(f"Webhook {endpoint_id} disabled."))


@app.command("enable")
def enable(ctx: typer.Context, endpoint_id: EndpointId) -> None:
    """Deliver to it again, starting with the deliveries it still has pending."""
    with session_for(ctx) as session:
        webhooks.enable_endpoint(session, endpoint_id)
    note = _start_deliveries(ctx, [endpoint_id])
    emit([*success(f"Webhook {endpoint_id} enabled."), *([note] if note else [])])


@app.command("remove")
def remove(ctx: typer.Context, endpoint_id: EndpointId) -> None:
    """Delete an endpoint and its delivery log."""
    with session_for(ctx) as session:
        webhooks.remove_endpoint(session, endpoint_id)
    emit(success(f"Webhook {endpoint_id} removed."))


@app.command("rotate-secret")
def rotate_secret(ctx: typer.Context, endpoint_id: EndpointId, as_json: JsonFlag = False) -> None:
    """A new signing secret, shown this once; deliveries from now on use it."""
    with session_for(ctx) as session:
        endpoint = webhooks.rotate_secret(session, endpoint_id)
        secret = endpoint.secret
    if as_json:
        print_json({"id": endpoint_id, "secret": secret})
        return
    emit(
        [
            *success(f"Webhook {endpoint_id}: new secret.", [("Secret", secret)]),
            "Keep it now: it is not shown again.",
        ]
    )


@app.command("test")
def test(ctx: typer.Context, endpoint_id: EndpointId, as_json: JsonFlag = False) -> None:
    """Send a webhook.ping event to the endpoint."""
    with session_for(ctx) as session:
        delivery_id = webhooks.ping(session, endpoint_id).id
    # The ping is its own delivery already: nothing to fan out for it.
    note = _start_deliveries(ctx, [endpoint_id], fan_out=False)
    with session_for(ctx) as session:
        data = _delivery_dict(webhooks.get_delivery(session, delivery_id))
    if as_json:
        print_json(data)
        return
    state = data.get("status", "pending")
    answer = data.get("response_code") or data.get("response") or ""
    lines: list[Line] = [f"Ping {delivery_id}: {state} {answer}".rstrip()]
    if state == "pending" and not data.get("attempts"):
        lines.append(note or "Queued: a worker delivers it.")
    emit(lines)


def _delivery_dict(row: webhooks.DeliveryRow) -> dict[str, Any]:
    d = row.delivery
    return {
        "id": d.id,
        "endpoint_id": d.endpoint_id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "seq": d.event_seq,
        "status": d.status.value,
        "attempts": d.attempts,
        "response_code": d.response_code,
        "response": d.response_body,
        "last_attempt_at": jsonable(d.last_attempt_at),
        "next_attempt_at": jsonable(d.next_attempt_at),
    }


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    endpoint_id: Annotated[
        str | None, typer.Argument(help="Only this endpoint's.", show_default=False)
    ] = None,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only those that failed (for good or so far).")
    ] = False,
    limit: Limit = DEFAULT_PAGE,
    after: AfterOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Deliveries, newest first: event, status, attempts, the receiver's answer."""
    with session_for(ctx) as session:
        page = webhooks.list_deliveries(
            session, endpoint_id, failed=failed, limit=limit, after=after
        )
        data = [_delivery_dict(row) for row in page.items]
    if as_json:
        print_json({"total": page.total.count, "next_after": page.next_after, "deliveries": data})
        return
    rows = [
        [
            d["id"],
            d["event_type"],
            d["status"],
            str(d["attempts"]),
            str(d["response_code"] or EMPTY),
            " ".join(text_or_empty(d["response"]).split())[:50],
        ]
        for d in data
    ]
    headers = ["ID", "Event", "Status", "Attempts", "Code", "Answer"]
    # The next page is of the same deliveries: the endpoint and filters come along.
    again = " ".join(
        ["crm webhook deliveries", *([endpoint_id] if endpoint_id else [])]
        + (["--failed"] if failed else [])
        + ([f"--limit {limit}"] if limit != DEFAULT_PAGE else [])
    )
    emit(
        [
            *table(headers, rows),
            *page_footer(page, "delivery", "deliveries", next_command=again),
        ]
    )


@app.command("replay")
def replay(
    ctx: typer.Context,
    delivery_id: Annotated[
        str | None, typer.Argument(help="The delivery to send again.", show_default=False)
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Send again every event since this time, e.g. 01.10.2025."),
    ] = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="With --since: only this endpoint.")
    ] = None,
) -> None:
    """Deliver again (same webhook-id, so receivers can tell a repeat)."""
    with session_for(ctx) as session:
        endpoints = webhooks.replay(
            session,
            delivery_id=delivery_id,
            since=parse_since(since),
            endpoint_id=endpoint,
        )
    note = _start_deliveries(ctx, endpoints)
    what = f"Delivery {delivery_id}" if delivery_id else f"Deliveries since {since}"
    emit(
        [
            *success(f"{what} queued again ({len(endpoints)} endpoint(s))."),
            *([note] if note else []),
        ]
    )

"""The broker from configuration: Redis for production, inline for the embedded default.

Actors are declared against a placeholder broker at import time and bound to the
configured one by ``install_broker``, so importing the job modules never connects
anywhere.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from worker.config import Settings

placeholder = StubBroker()


class InlineBroker(StubBroker):
    """Runs each message in the calling thread, at once, instead of queueing it.

    Used when ``broker.url = "inline"``: the same actors, no Redis, no worker process.
    A job that fails raises in the caller, which owns the retry.
    """

    def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
        self.emit_before("enqueue", message, delay)
        actor = self.get_actor(message.actor_name)
        actor.fn(*message.args, **message.kwargs)
        self.emit_after("enqueue", message, delay)
        return message


def make_broker(settings: Settings) -> dramatiq.Broker:
    if settings.broker.url == "inline":
        return InlineBroker()
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=settings.broker.url,
        namespace=settings.broker.namespace,
        heartbeat_timeout=settings.broker.heartbeat_timeout_ms,
        maintenance_chance=settings.broker.maintenance_chance,
    )
    broker.add_middleware(CurrentMessage())
    return broker


def install_broker(settings: Settings) -> dramatiq.Broker:
    """Make the configured broker the global one and bind every actor to it."""
    from worker.jobs import actors, sync_actors  # the actors register themselves on import

    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    for actor in [*actors.ALL, *sync_actors.ALL]:
        actor.broker = broker
        broker.declare_actor(actor)
        actor.options.update(
            max_retries=settings.worker.max_retries,
            min_backoff=settings.worker.min_backoff_ms,
            max_backoff=settings.worker.max_backoff_ms,
        )
    return broker

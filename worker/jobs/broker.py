"""The broker from configuration: Redis for production, inline for the embedded default.

Actors are declared against a placeholder broker at import time (``job`` below) and
bound to the configured one by ``install_broker``, so importing the job modules never
connects anywhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from worker.config import Settings
from worker.runtime.outbox import bind_broker
from worker.runtime.registry import JOBS, JobName, queue_of

placeholder = StubBroker()

F = TypeVar("F", bound=Callable[..., Any])


def job(name: JobName, **options: Any) -> Callable[[F], dramatiq.Actor[Any, Any]]:
    """Declare the actor of the registered job ``name`` (its queue comes from the registry)."""
    return dramatiq.actor(actor_name=name, queue_name=queue_of(name), broker=placeholder, **options)


class InlineBroker(StubBroker):
    """Runs each message in the calling thread, at once, instead of queueing it.

    Used when ``broker.url = "inline"``: the same actors, no Redis, no worker process.
    A job that fails raises in the caller, which owns the retry. Nothing can wait for
    later here (``runs_inline``): delayed work is left to the periodic sweeps.
    """

    runs_inline = True

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


def registered_actors() -> list[dramatiq.Actor[Any, Any]]:
    """The actor of every registered job (importing the modules that declare them)."""
    for module in dict.fromkeys(spec.module for spec in JOBS.values()):
        importlib.import_module(module)
    missing = [name for name in JOBS if not placeholder.actors.get(name)]
    if missing:
        raise LookupError(f"registered jobs without an actor: {', '.join(missing)}")
    return [placeholder.get_actor(name) for name in JOBS]


def install_broker(settings: Settings) -> dramatiq.Broker:
    """Make the configured broker the global one and bind every actor to it."""
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    for actor in registered_actors():
        actor.broker = broker
        broker.declare_actor(actor)
        actor.options.update(
            max_retries=settings.worker.max_retries,
            min_backoff=settings.worker.min_backoff_ms,
            max_backoff=settings.worker.max_backoff_ms,
        )
    bind_broker(broker)
    return broker

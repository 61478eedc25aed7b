"""Module that the Dramatiq worker processes import (`crm worker` starts them).

Binds the actors to the configured broker and adds what an operator needs to see:
structured logs, Prometheus metrics (Dramatiq's middleware, plus our own counters in
the same multiprocess registry) and a health server.
"""

from dramatiq.middleware.prometheus import Prometheus

from worker.config import load_settings
from worker.jobs.broker import install_broker
from worker.jobs.resume_on_start import ResumeOnStart
from worker.jobs.webhook_actors import WebhookSweep
from worker.observability.logs import configure_logging
from worker.observability.worker_health import WorkerHealth
from worker.runtime import use_settings

settings = load_settings()
configure_logging(settings.logging.format, settings.logging.level)
use_settings(settings)
broker = install_broker(settings)
broker.add_middleware(Prometheus())
broker.add_middleware(WorkerHealth())
broker.add_middleware(ResumeOnStart())
broker.add_middleware(WebhookSweep())

"""Module that the Dramatiq worker process imports: binds the actors to the broker."""

from worker.config import load_settings
from worker.jobs.broker import install_broker
from worker.jobs.runtime import use_settings

settings = load_settings()
use_settings(settings)
broker = install_broker(settings)

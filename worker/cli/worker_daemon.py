"""``crm worker``: the Dramatiq worker with the project's actors and middleware."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Annotated

import typer

from worker.cli.config_check import preflight
from worker.cli.context import CliError, state
from worker.runtime.registry import QUEUES


def worker(
    ctx: typer.Context,
    processes: Annotated[
        int | None, typer.Option("--processes", "-p", min=1, help="Default: worker.processes.")
    ] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", "-t", min=1, help="Default: worker.threads.")
    ] = None,
) -> None:
    """Run the job workers (needs broker.url = redis://…). Stops cleanly on SIGTERM:
    jobs in progress finish, prefetched ones go back to the queue."""
    cli = state(ctx)
    settings = cli.settings
    if settings.broker.url == "inline":
        raise CliError(
            "the inline broker runs jobs inside each command; set broker.url "
            "(or CRM_BROKER_URL) to redis://… to run workers"
        )
    preflight(settings)
    env = dict(os.environ)
    if cli.config_path is not None:
        env["CRM_CONFIG"] = str(cli.config_path.resolve())
    # Dramatiq's metrics server reads these; the multiprocess directory is private to
    # this worker so that two workers on one machine never mix their counters.
    metrics_dir = tempfile.mkdtemp(prefix="crm-worker-metrics-")
    env.update(
        dramatiq_prom_host=settings.metrics.host,
        dramatiq_prom_port=str(settings.metrics.worker_port),
        dramatiq_prom_db=metrics_dir,
        PROMETHEUS_MULTIPROC_DIR=metrics_dir,
    )
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        "worker.jobs.entry",
        "--processes",
        str(processes or settings.worker.processes),
        "--threads",
        str(threads or settings.worker.threads),
        "--queues",
        *QUEUES,
    ]
    # Replace this process, so that the service manager's signals reach Dramatiq.
    os.execve(sys.executable, argv, env)  # noqa: S606

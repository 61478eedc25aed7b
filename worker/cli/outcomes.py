"""Commands that change an outcome (quote, booking, lead status) send a rescore.

The services record the request (a bumped generation in crm_core.scoring) in the
outcome's transaction; after the commit this sends the ``rescore_leads`` job. Should
the send fail (the broker away), the outcome stands and the command succeeds: the
request waits for the periodic check of `crm worker` / `crm watch`
(worker.jobs.rescore_sweep) or for `crm lead rescore`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from worker.cli.context import send_after_commit, session_for

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@contextmanager
def outcome_session(ctx: typer.Context) -> Iterator[Session]:
    """``session_for`` that also sends the rescore of the leads when the block commits."""
    with session_for(ctx) as session:
        yield session
    send_after_commit(ctx, "rescore_leads", "lead rescore waits for the next check")

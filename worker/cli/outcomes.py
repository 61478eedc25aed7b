"""Commands that change an outcome (quote, booking, lead status) ask for a rescore.

The outcome, the request (a bumped generation in crm_core.scoring) and the
``rescore_leads`` job go together: the job is sent only after the transaction commits,
and a job lost on the way leaves the request standing for the next rescore to honour.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from worker.cli.context import session_for

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@contextmanager
def outcome_session(ctx: typer.Context) -> Iterator[Session]:
    """``session_for`` that also requests a rescore of the leads when the block succeeds."""
    from crm_core.scoring import request_rescore
    from worker.cli.jobs import runtime_for
    from worker.runtime import enqueue, sending

    runtime_for(ctx)
    with sending(), session_for(ctx) as session:
        yield session
        request_rescore(session)
        enqueue("rescore_leads")

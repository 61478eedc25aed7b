"""The rescore_leads job through Redis and a real `crm worker`, on PostgreSQL.

Outcomes recorded by `crm` commands only enqueue; the worker rebuilds the model.
Five outcomes queued before the worker starts cost one rebuild: the other four jobs
find the model already newer than their request.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crm_core.models import LeadScoreCount, LeadScoringState, Quote
from tests.conftest import Database
from tests.insight.history import GOOD, lead, planted_history
from tests.processes import (
    clear_namespace,
    crm,
    crm_json,
    daemon,
    free_port,
    new_namespace,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


@pytest.fixture
def namespace() -> Iterator[str]:
    name = new_namespace()
    yield name
    clear_namespace(name)


def _state(database: Database) -> tuple[int, int]:
    with database.sessions() as session:
        state = session.get(LeadScoringState, 1)
        return (state.requested, state.built) if state else (0, 0)


def test_a_burst_of_outcomes_is_rescored_once_by_the_worker(
    database: Database, namespace: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "crm.toml", database, namespace)
    old = datetime.now(UTC) - timedelta(days=60)
    with database.sessions() as session:
        planted_history(session, 40)
        leads = [lead(session, "website", GOOD[1], old + timedelta(hours=i)).id for i in range(5)]
        session.commit()
    crm(config, "lead", "rescore")
    asked, built = _state(database)  # the history's own outcomes, honoured by the rescore
    assert asked == built

    for lead_id in leads:
        quote = crm_json(config, "quote", "create", "--lead", lead_id, "--total", "1500")["id"]
        crm(config, "quote", "accept", quote)
    assert _state(database) == (asked + 5, asked)  # recorded and queued; nothing rebuilt yet

    log = tmp_path / "worker.log"
    with daemon(config, "worker", "-p", "1", "-t", "1", log=log):
        wait_for(lambda: _state(database) == (asked + 5, asked + 5), 60, what="the rescore")
        wait_for(  # (the worker's periodic check may send one more, which finds nothing)
            lambda: log.read_text().count("lead scores already up to date") >= 4,
            30,
            what="the other four jobs",
        )
    assert log.read_text().count("lead scores rebuilt") == 1
    with database.sessions() as session:
        website = session.get(LeadScoreCount, ("source", "website"))
        assert website is not None and (website.leads, website.converted) == (5, 5)


def test_an_outcome_while_the_broker_is_away_succeeds_and_the_worker_rescores_later(
    database: Database, namespace: str, tmp_path: Path
) -> None:
    """The quote is accepted although the rescore job cannot be sent; the request
    waits in the database, and a worker's periodic check sends the job."""
    sweep = "[webhooks]\nsweep_interval_seconds = 1\n"
    config = write_config(tmp_path / "crm.toml", database, namespace, webhooks=sweep)
    away = tmp_path / "away.toml"
    away.write_text(
        config.read_text().replace(
            'url = "redis://', f'url = "redis://127.0.0.1:{free_port()}/0" #', 1
        )
    )
    with database.sessions() as session:
        planted_history(session, 20)
        open_lead = lead(session, "website", GOOD[1], datetime.now(UTC) - timedelta(days=40)).id
        session.commit()
    crm(config, "lead", "rescore")
    asked, _ = _state(database)

    quote = crm_json(away, "quote", "create", "--lead", open_lead, "--total", "1500")["id"]
    accepted = crm(away, "quote", "accept", quote)
    assert accepted.returncode == 0 and "Traceback" not in accepted.stderr
    with database.sessions() as session:
        assert session.get(Quote, quote).status == "accepted"  # type: ignore[union-attr]
    assert _state(database) == (asked + 1, asked)  # asked for, not sent

    with daemon(config, "worker", "-p", "1", "-t", "1", log=tmp_path / "worker.log"):
        wait_for(lambda: _state(database) == (asked + 1, asked + 1), 60, what="the rescore")

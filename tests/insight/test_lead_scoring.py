"""Lead scoring on PostgreSQL and SQLite: learns a planted signal, falls back to the
prior without history, scores new leads from the stored model, rescores idempotently
and rebuilds once for a burst of requests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crm_core import services
from crm_core.models import LeadScore, LeadScoreCount
from crm_core.scoring import (
    lead_score,
    rebuild_scores,
    request_rescore,
    rescore_if_requested,
    scoring_state,
)
from crm_core.scoring.facts import lead_facts
from crm_core.scoring.features import features_of
from crm_core.scoring.model import PRIOR_RATE
from tests.conftest import Database
from tests.insight.history import BAD, GOOD, TUESDAY, lead, planted_history, reply
from tests.processes import wait_for

NOW = datetime.now(UTC)


def _recent_tuesday() -> datetime:
    """A Tuesday at TUESDAY's hour within the last 30 days (the lead is still open)."""
    moment = (NOW - timedelta(days=8)).replace(hour=TUESDAY.hour, minute=0, second=0)
    return moment - timedelta(days=(moment.weekday() - TUESDAY.weekday()) % 7)


def test_the_model_learns_the_planted_signal(session: Session) -> None:
    planted_history(session)
    summary = rebuild_scores(session)
    assert summary.trained_on == 120
    assert 0 < summary.converted < 120

    good = lead(session, GOOD[0], GOOD[1], _recent_tuesday())
    bad = lead(session, BAD[0], BAD[1], _recent_tuesday())
    session.commit()
    good_score, good_reasons = lead_score(session, good.id) or (0, [])
    bad_score, bad_reasons = lead_score(session, bad.id) or (0, [])
    assert good_score >= bad_score + 30, (good_score, bad_score)
    # The two features that carry the signal are the two reasons that weigh most,
    # in favour of the good lead and against the bad one; the weekday is no reason.
    assert {r.feature for r in good_reasons[:2]} == {"source", "area"}
    assert all(r.weight > 0 for r in good_reasons[:2])
    assert {r.feature for r in bad_reasons[:2]} == {"source", "area"}
    assert all(r.weight < 0 for r in bad_reasons[:2])
    assert good_reasons[0].text().startswith("+ ")
    assert "80xx" in " ".join(r.text() for r in good_reasons)
    assert "weekday" not in {r.feature for r in good_reasons}


def test_without_history_a_lead_scores_the_prior_with_readable_reasons(
    session: Session,
) -> None:
    created = services.create_lead(
        session, source="website", address="Havnegade 4, 5000 Odense C", task_type="Flytterengøring"
    )
    session.commit()
    score, reasons = lead_score(session, created.id) or (None, [])
    assert score == round(PRIOR_RATE * 100)
    assert len(reasons) == 3
    assert [r.feature for r in reasons] == ["source", "task", "area"]
    assert reasons[0].text() == "· source website: no history yet"
    # Rebuilding from an empty history changes nothing.
    assert rebuild_scores(session).changed == 0


def test_new_leads_are_scored_from_the_stored_model_without_a_rebuild(session: Session) -> None:
    planted_history(session, count=60)
    rebuild_scores(session)
    session.commit()
    counts_before = session.execute(select(func.count()).select_from(LeadScoreCount)).scalar()
    trained_at = scoring_state(session).trained_at  # type: ignore[union-attr]

    fresh = lead(session, GOOD[0], GOOD[1], _recent_tuesday())
    session.commit()
    score = session.get(LeadScore, fresh.id)
    assert score is not None and score.score > round(PRIOR_RATE * 100)
    assert scoring_state(session).trained_at == trained_at  # type: ignore[union-attr]
    assert session.execute(select(func.count()).select_from(LeadScoreCount)).scalar() == (
        counts_before
    )
    # A full rebuild gives the new lead the same score: creation used the same model.
    assert rebuild_scores(session).changed == 0


def test_rescoring_is_idempotent_and_a_burst_of_requests_rebuilds_once(session: Session) -> None:
    planted_history(session, count=40)
    assert rebuild_scores(session).changed == 40
    assert rebuild_scores(session).changed == 0
    session.commit()

    for _ in range(5):  # five outcomes, each asking for a rescore
        request_rescore(session)
    session.commit()
    first = rescore_if_requested(session)
    session.commit()
    assert first is not None and first.scored == 40
    assert [rescore_if_requested(session) for _ in range(4)] == [None] * 4
    request_rescore(session)
    assert rescore_if_requested(session) is not None


def test_an_outcome_moves_the_model_after_a_rescore(session: Session) -> None:
    planted_history(session, count=40)
    rebuild_scores(session)
    old = lead(session, "website", GOOD[1], TUESDAY - timedelta(days=3))
    rebuild_scores(session)
    session.commit()
    website_before = session.get(LeadScoreCount, ("source", "website"))
    assert website_before is not None and website_before.converted == 0

    quote = services.create_quote(session, total="2500", lead_id=old.id)
    services.accept_quote(session, quote.id)  # the service asks for the rescore itself
    assert rescore_if_requested(session) is not None
    session.commit()
    website_after = session.get(LeadScoreCount, ("source", "website"))
    assert website_after is not None and website_after.converted == 1


def test_every_outcome_service_asks_for_a_rescore_and_the_periodic_check_sends_it(
    database: Database,
) -> None:
    """Outcomes recorded from Python (no command sends a job) still reach the model:
    each service records the request, and the check `crm worker` and `crm watch` run
    sends the rescore job (here the in-process broker runs it)."""
    from worker.config import load_settings
    from worker.jobs.broker import install_broker
    from worker.jobs.rescore_sweep import send_wanted_rescore
    from worker.runtime import use_settings

    settings = load_settings(database={"url": database.url, "pg_schema": database.schema})
    runtime = use_settings(settings)
    install_broker(settings)
    with database.sessions() as session:
        planted_history(session, count=20)
        rebuild_scores(session)
        open_lead = lead(session, "website", GOOD[1], TUESDAY - timedelta(days=3))
        customer = services.create_customer(session, name="Bo Berg", email="bo@example.dk")
        session.commit()
        state = scoring_state(session)
        assert state is not None
        requested = state.requested
        quote = services.create_quote(session, total="900", lead_id=open_lead.id)
        outcomes = [
            lambda: services.send_quote(session, quote.id),
            lambda: services.accept_quote(session, quote.id),
            lambda: services.reject_quote(
                session, services.create_quote(session, total="5", customer_id=customer.id).id
            ),
            lambda: services.create_booking(
                session, customer_id=customer.id, scheduled_at=NOW + timedelta(days=9)
            ),
            lambda: services.set_lead_status(session, open_lead.id, "contacted"),
        ]
        for number, outcome in enumerate(outcomes, start=1):
            outcome()
            assert scoring_state(session).requested == requested + number  # type: ignore[union-attr]
        session.commit()

    assert send_wanted_rescore(runtime) is True  # the job ran in-process
    assert send_wanted_rescore(runtime) is False  # nothing waits any more
    with database.sessions() as session:
        state = scoring_state(session)
        assert state is not None and state.built >= state.requested


def test_our_first_reply_rescores_the_lead_at_once(session: Session) -> None:
    """Fast replies convert more in this history: answering a new lead within the hour
    raises its score as soon as the reply is stored, before any rebuild."""
    for index in range(60):
        fast = index % 2 == 0
        wait = timedelta(minutes=20) if fast else timedelta(hours=30)
        received = TUESDAY + timedelta(weeks=index % 30)
        lead(session, "website", GOOD[1], received, converted=fast == (index % 10 != 0),
             reply_after=wait)  # fmt: skip
    rebuild_scores(session)
    fresh = lead(session, "website", GOOD[1], NOW - timedelta(hours=1))
    session.commit()
    before, reasons = lead_score(session, fresh.id) or (0, [])
    assert "reply" not in {r.feature for r in reasons}  # not answered yet: not held against it

    reply(session, fresh, NOW - timedelta(minutes=30))
    session.commit()
    after, reasons = lead_score(session, fresh.id) or (0, [])
    assert after > before + 20
    assert reasons[0].text() == "+ first reply within 1 h: 24 of 30 converted"


def _waiting_for_advisory_lock(database: Database) -> bool:
    with database.engine.connect() as connection:
        waiting = connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        ).scalar()
    return bool(waiting)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_second_rescore_waits_for_the_first_and_then_has_nothing_to_do(
    database: Database,
) -> None:
    with database.sessions() as session:
        planted_history(session, count=30)
        request_rescore(session)
        session.commit()
    results: list[object] = []
    with database.sessions() as first:
        assert rescore_if_requested(first) is not None  # holds the rebuild lock until commit

        def second() -> None:
            with database.sessions() as other:
                results.append(rescore_if_requested(other))
                other.commit()

        thread = threading.Thread(target=second)
        thread.start()
        wait_for(lambda: _waiting_for_advisory_lock(database), 30, what="the second rescore")
        assert thread.is_alive() and results == []
        first.commit()
    thread.join(30)
    assert results == [None]


def test_a_customers_earlier_business_is_counted_before_the_lead_only(session: Session) -> None:
    customer = services.create_customer(session, name="Mette Hansen", email="mette@example.dk")
    first = lead(session, *GOOD, TUESDAY, converted=True, revenue="4000")
    services.link_lead_to_customer(session, first.id, customer.id)
    # Business booked straight on the customer (no lead) counts too.
    direct = services.create_quote(session, total="1500", customer_id=customer.id)
    services.accept_quote(session, direct.id, at=TUESDAY + timedelta(days=20))
    services.create_booking(
        session,
        customer_id=customer.id,
        scheduled_at=TUESDAY + timedelta(days=30),
        booked_at=TUESDAY + timedelta(days=20),
    )
    second = lead(session, *GOOD, TUESDAY + timedelta(days=60))
    services.link_lead_to_customer(session, second.id, customer.id)
    later = services.create_quote(session, total="9000", customer_id=customer.id)
    services.accept_quote(session, later.id, at=TUESDAY + timedelta(days=90))  # after: not counted
    session.commit()

    facts = {f.lead_id: f for f in lead_facts(session, [first.id, second.id])}
    assert (facts[first.id].earlier_bookings, facts[first.id].earlier_revenue) == (0, 0)
    assert facts[first.id].converted and not facts[second.id].converted
    assert facts[second.id].earlier_bookings == 2
    assert facts[second.id].earlier_revenue == Decimal("5500.00")
    values = features_of(facts[second.id], NOW)
    assert (values["bookings"], values["revenue"]) == ("2 or more", "5.000 kr or more")
    _, reasons = lead_score(session, second.id) or (0, [])
    assert len(reasons) == 3  # scored again when it was linked

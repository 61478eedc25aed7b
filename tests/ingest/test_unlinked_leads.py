"""A lead email that names no address of the customer still becomes a lead: unlinked,
with the reason, listed by `crm lead unlinked`; nothing is counted on any customer."""

from __future__ import annotations

from pathlib import Path

from crm_core import services
from crm_core.inbox import StagedMessage, claim_received_message, stage_messages
from crm_core.leads import list_unlinked_leads
from crm_core.statuses import IngestOutcome
from tests.cli.conftest import Cli
from tests.conftest import Database
from worker.ingest.pipeline import ingest_received
from worker.mail.message import ParseLimits
from worker.mail.rules import IngestRules

CORPUS = Path(__file__).resolve().parent.parent / "classify" / "lead_corpus"
NO_ADDRESS = (CORPUS / "leadpoint_no_address_unlinked.eml").read_bytes()
LINKED = (CORPUS / "leadpoint_kundenavn.eml").read_bytes()
MAILBOX = "info@rendetalje.dk"


def _mbox(path: Path, *messages: tuple[int, int, bytes]) -> Path:
    chunks = [
        f"From {gmail_id}@xxx Mon May 06 09:00:00 +0000 2024\nX-GM-THRID: {thread}\n".encode()
        + raw.replace(b"\r\n", b"\n")
        + b"\n"
        for gmail_id, thread, raw in messages
    ]
    path.write_bytes(b"".join(chunks))
    return path


def test_an_import_keeps_the_lead_unlinked_and_lists_it(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    mbox = _mbox(tmp_path / "leads.mbox", (1001, 1001, NO_ADDRESS), (1002, 1002, LINKED))
    cli("import", "mbox", str(mbox))
    cli("import", "mbox", str(mbox))  # twice: still one lead each

    listed = cli.json("lead", "unlinked")
    assert listed["total"] == 1
    (lead,) = listed["leads"]
    assert (lead["source"], lead["name"], lead["phone"]) == (
        "leadpoint",
        "Gitte Rasmussen",
        "+4597121234",
    )
    assert lead["reason"] == "no address of the customer in the lead or its Reply-To"
    assert lead["email_message"] == f"{MAILBOX}:{format(1001, 'x')}"

    out = cli("lead", "unlinked")
    assert "Gitte Rasmussen" in out and "Total: 1 unlinked lead" in out
    customers = cli.json("customer", "list")
    assert [c["email"] for c in customers] == ["soren.odegaard@gmail.com"]
    assert customers[0]["total_leads"] == 1
    audit_reasons = {row["reason"] for row in cli.json("quarantine", "list")}
    assert audit_reasons == set()  # kept, not quarantined


def test_the_message_by_message_path_keeps_it_too(database: Database) -> None:
    rules = IngestRules.for_mailbox(MAILBOX, [], ["rendetalje.dk"])
    with database.sessions() as session:
        stage_messages(session, [StagedMessage(MAILBOX, "m1", NO_ADDRESS, "gmail", None)])
        session.commit()
        row = claim_received_message(session, MAILBOX, "m1")
        assert row is not None
        result = ingest_received(session, row, rules, ParseLimits())
        session.commit()
        assert (result.outcome, result.reason) == (
            IngestOutcome.SKIPPED,
            "lead:unlinked:leadpoint",
        )
        total, leads = list_unlinked_leads(session)
        assert total == 1 and leads[0].id == result.lead_id
        assert leads[0].name == "Gitte Rasmussen" and leads[0].customer_id is None
        assert services.query_customers(session) == []

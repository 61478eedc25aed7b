"""`crm explain FILE.eml | --gmail-id ID`: what the parser saw and why the message is
filed as it is, writing nothing."""

from __future__ import annotations

from pathlib import Path

from crm_core import services
from crm_core.inbox import StagedMessage, find_received_by_gmail_id, stage_messages
from crm_core.statuses import IngestOutcome
from tests.cli.conftest import Cli
from tests.conftest import Database

CORPUS = Path(__file__).resolve().parent.parent / "classify" / "lead_corpus"
KUNDENAVN = CORPUS / "leadpoint_kundenavn.eml"
HOSTILE = (
    b"From: Bo <bo@example.com>\r\nTo: info@rendetalje.dk\r\n"
    b"Subject: =?utf-8?q?Hej=1B[2J_der?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Navn: Bo\x1b]0;title\x07 Berg\r\nKan I komme?\x1b[31m\r\n"
)


def test_a_lead_file_shows_fields_with_their_labels_and_the_rule(bare_cli: Cli) -> None:
    out = bare_cli("explain", str(KUNDENAVN))
    assert "From:         Leadpoint <leads@leadpoint.dk>" in out
    assert "Body: the text/plain part" in out
    assert "Kundenavn: Søren Ødegaard" in out  # the body as parsed
    assert "4. lead source      FIRED" in out
    assert "1. Gmail labels     no" in out
    assert "5. our own address  not reached" in out
    assert 'Søren Ødegaard   ← label "Kundenavn" (by meaning)' in out
    assert '+4521436587   ← label "Kontakttelefon" (by meaning)' in out
    assert "Result:  inbound, customer Søren Ødegaard <soren.odegaard@gmail.com>" in out


def test_json_names_the_origin_of_every_field(bare_cli: Cli) -> None:
    data = bare_cli.json("explain", str(CORPUS / "leadpoint_unknown_labels_shape.eml"))
    assert data["classification"]["rule"] == 4
    assert data["lead"]["email"] == {
        "value": "karen.blix@mail.dk",
        "origin": "shape: an address in the body",
    }
    assert data["lead"]["address"]["origin"] == "shape: NNNN Town in the body"


def test_plain_mail_says_why_no_rule_before_inbound_fired(tmp_path: Path, bare_cli: Cli) -> None:
    path = tmp_path / "plain.eml"
    path.write_bytes(
        b"From: Anna <anna@example.com>\r\nTo: info@rendetalje.dk\r\nSubject: Hej\r\n\r\nHej\r\n"
    )
    out = bare_cli("explain", str(path))
    assert "7. inbound          FIRED" in out
    assert '"leadpoint": sender not among its senders' in out
    assert "Lead: none (no lead source matched" in out
    as_lead = bare_cli.json("explain", str(path), "--parser", "website_form")
    assert as_lead["lead"] is None  # nobody named in the body


def test_control_characters_from_mail_are_not_printed(tmp_path: Path, bare_cli: Cli) -> None:
    path = tmp_path / "hostile.eml"
    path.write_bytes(HOSTILE)
    out = bare_cli("explain", str(path))
    assert "\x1b" not in out and "\x07" not in out
    assert "Subject:      Hej der" in out  # the escape sequence goes whole
    assert "Navn: Bo Berg" in out


def test_a_staged_message_is_read_from_the_ledger_and_nothing_is_written(
    cli: Cli, database: Database
) -> None:
    with database.sessions() as session:
        stage_messages(
            session,
            [
                StagedMessage(
                    "info@rendetalje.dk",
                    "18f0a1",
                    KUNDENAVN.read_bytes(),
                    "gmail",
                    label_ids=["INBOX", "CATEGORY_UPDATES"],
                )
            ],
        )
        session.commit()
    out = cli("explain", "--gmail-id", "18f0a1")
    assert "info@rendetalje.dk:18f0a1" in out
    assert "(labels: CATEGORY_UPDATES, INBOX)" in out
    assert "4. lead source      FIRED" in out
    with database.sessions() as session:
        (row,) = find_received_by_gmail_id(session, "18f0a1", "INFO@rendetalje.dk")
        assert row.outcome == IngestOutcome.PENDING
        assert services.query_customers(session) == []
    error = cli.fails("explain", "--gmail-id", "nope")
    assert error == "Error: no staged message with Gmail id nope; see `crm audit`"


def test_wrong_use_is_one_line(bare_cli: Cli, tmp_path: Path) -> None:
    assert "give a message file or --gmail-id ID" in bare_cli.fails("explain")
    assert "cannot read" in bare_cli.fails("explain", str(tmp_path / "missing.eml"))
    assert "unknown parser" in bare_cli.fails("explain", str(KUNDENAVN), "--parser", "x")
    # No database yet: it is not created just to say so.
    assert "no database at crm.db" in bare_cli.fails("explain", "--gmail-id", "18f0a1")
    assert not (tmp_path / "crm.db").exists()


def test_a_message_from_a_takeout_export_is_judged_with_its_labels(
    tmp_path: Path, bare_cli: Cli
) -> None:
    path = tmp_path / "spam.eml"
    path.write_bytes(
        b"X-Gmail-Labels: Spam,Opened\r\nFrom: a@b.dk\r\nTo: info@rendetalje.dk\r\n"
        b"Subject: Tilbud\r\n\r\nHej\r\n"
    )
    out = bare_cli("explain", str(path))
    assert "Result:  skip, reason label:spam" in out
    assert "1. Gmail labels     FIRED       label SPAM (labels: SPAM)" in out

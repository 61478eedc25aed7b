"""Webhooks reach public addresses only, unless the configuration allows more: checked
at delivery time after DNS resolution, and redirects are never followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core.models.types import utcnow
from crm_core.webhooks import Outgoing
from tests.cli.conftest import Cli
from tests.processes import free_port
from tests.webhooks.receiving import received, receiver
from worker.webhooks.address_check import AddressRefusedError, allowed_addresses
from worker.webhooks.sender import Policy, deliver_once

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LOCAL = Policy(timeout_seconds=5, allow_private_networks=True, allow_http=True)


def outgoing(url: str) -> Outgoing:
    return Outgoing(
        delivery_id="d1",
        webhook_id="evt_1_e1",
        url=url,
        secret=SECRET,
        body='{"type":"webhook.ping","timestamp":"2026-01-01T00:00:00+00:00","data":{}}',
        due_at=utcnow(),
        attempts=0,
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://localhost/hook", "loopback"),  # through the system resolver
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.1.1/hook", "private"),
        ("https://169.254.10.10/hook", "link-local"),
        ("https://0.0.0.0/hook", "not an address of a host"),
    ],
)
def test_default_settings_refuse_internal_addresses(url: str, why: str) -> None:
    attempt = deliver_once(outgoing(url), Policy())
    assert attempt.status is None and not attempt.succeeded
    assert attempt.text.startswith("refused:") and why in attempt.text


def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    def resolver(host: str, port: int) -> list[str]:
        return {
            "hooks.example.com": ["10.0.0.7"],
            "mixed.example.com": ["93.184.216.34", "10.0.0.8"],
        }[host]

    for host in ("hooks.example.com", "mixed.example.com"):
        attempt = deliver_once(outgoing(f"https://{host}/x"), Policy(), resolve=resolver)
        assert attempt.text.startswith("refused:") and "private network" in attempt.text
    public = allowed_addresses(
        "public.example.com", 443, allow_private=False, resolve=lambda h, p: ["93.184.216.34"]
    )
    assert [str(a) for a in public] == ["93.184.216.34"]


def test_metadata_is_refused_even_with_private_networks_allowed() -> None:
    with pytest.raises(AddressRefusedError, match="metadata"):
        allowed_addresses("169.254.169.254", 80, allow_private=True)
    with pytest.raises(AddressRefusedError, match="metadata"):
        allowed_addresses(
            "meta.internal", 80, allow_private=True, resolve=lambda h, p: ["169.254.169.254"]
        )
    assert allowed_addresses("10.0.0.1", 80, allow_private=True)


def test_http_needs_allow_http() -> None:
    attempt = deliver_once(
        outgoing("http://93.184.216.34/hook"), Policy(allow_private_networks=True)
    )
    assert attempt.text.startswith("refused:") and "https is required" in attempt.text


def test_a_redirect_to_localhost_is_not_followed(tmp_path: Path) -> None:
    target_port, redirect_port = free_port(), free_port()
    target_log, redirect_log = tmp_path / "target.jsonl", tmp_path / "redirect.jsonl"
    with (
        receiver(target_port, SECRET, target_log),
        receiver(
            redirect_port, SECRET, redirect_log, "--redirect", f"http://127.0.0.1:{target_port}/"
        ),
    ):
        attempt = deliver_once(outgoing(f"http://127.0.0.1:{redirect_port}/hook"), LOCAL)
    assert attempt.status == 302 and not attempt.succeeded
    assert "not followed" in attempt.text
    assert [e["verified"] for e in received(redirect_log)] == [True]
    assert received(target_log, "arrived") == []


def test_the_pipeline_refuses_a_local_receiver_with_the_default_settings(
    cli: Cli, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "receiver.jsonl"
    cli.fails("webhook", "add", f"http://127.0.0.1:{port}/hook", "--events", "*")
    added = cli.json("webhook", "add", f"https://127.0.0.1:{port}/hook", "--events", "*")
    with receiver(port, added["secret"], log):
        cli.create("Grete Hansen", "grete@example.dk")
        deliveries = cli.json("webhook", "deliveries", added["id"])["deliveries"]
    assert received(log, "arrived") == []
    assert [d["event_type"] for d in deliveries] == ["customer.created"]
    assert deliveries[0]["status"] == "pending" and deliveries[0]["attempts"] == 1
    assert "loopback" in deliveries[0]["response"]

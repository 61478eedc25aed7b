"""Pytest fixtures for the fake Gmail server; import them into a conftest.py::

from tests.gmail_fake.fixtures import gmail_account, gmail_server, gmail_service  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .server import FakeGmailServer

DEFAULT_ACCOUNT = "owner@example.com"


@pytest.fixture
def gmail_server() -> Iterator[FakeGmailServer]:
    """A started fake, stopped afterwards. Fails the test if the fake itself crashed."""
    with FakeGmailServer() as server:
        yield server
        errors = list(server.internal_errors)
    assert not errors, "fake Gmail server raised:\n" + "\n".join(errors)


@dataclass(frozen=True)
class GmailAccount:
    email: str
    refresh_token: str


@pytest.fixture
def gmail_account(gmail_server: FakeGmailServer) -> GmailAccount:
    """An empty mailbox on the fake, with a refresh token for it."""
    return GmailAccount(DEFAULT_ACCOUNT, gmail_server.add_user(DEFAULT_ACCOUNT))


@pytest.fixture
def gmail_service(gmail_server: FakeGmailServer, gmail_account: GmailAccount) -> Any:
    """A real googleapiclient Gmail service for gmail_account; batches reach the fake too."""
    return gmail_server.build_service(gmail_server.credentials(gmail_account.refresh_token))

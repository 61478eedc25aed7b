"""Fixtures of the push tests: Google's certificate endpoint and a clock to move."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.watch.keys import CertsServer, FakeClock, google_key


@pytest.fixture
def certs() -> Iterator[CertsServer]:
    with CertsServer(google_key()) as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()

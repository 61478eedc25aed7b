"""The facades that import their names on first use offer every name they list."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

FACADES = ["crm_core.services", "crm_core.customers"]


@pytest.mark.parametrize("name", FACADES)
def test_every_listed_name_resolves(name: str) -> None:
    # In a fresh interpreter: here other tests may have imported the modules already.
    script = (
        "import importlib, sys\n"
        f"facade = importlib.import_module({name!r})\n"
        "missing = [n for n in facade.__all__ if not hasattr(facade, n)]\n"
        "print(','.join(missing))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("name", FACADES)
def test_an_unknown_name_is_an_attribute_error(name: str) -> None:
    facade = importlib.import_module(name)
    with pytest.raises(AttributeError, match="no_such_service"):
        facade.no_such_service  # noqa: B018
    assert not hasattr(facade, "no_such_service")

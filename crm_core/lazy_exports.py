"""Names a package offers but imports on first use (PEP 562 module ``__getattr__``).

A facade such as ``crm_core.services`` that imported every service up front made each
``crm`` command pay for all of them (search, replies, inbox rules, the duplicate
finder's fuzzy matching); with this, ``crm customer get`` imports the three it calls.
The facade keeps the real imports under ``TYPE_CHECKING`` so that type checkers and
readers see where every name comes from.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: ``where`` maps each name to its module (an
    ``"module:attribute"`` when the name differs). A resolved name is stored in the
    package, so only the first look-up costs anything."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook PEP 562 names
        try:
            module, _, attribute = where[name].partition(":")
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), attribute or name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

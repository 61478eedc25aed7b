"""Commands that are imported only when they run.

``crm`` lists its command groups by name (worker/cli/main.py), and a group can do the
same for some of its own commands: ``crm customer export``, ``import`` and ``bulk``
bring the file readers, CSV and progress bars with them, which ``crm customer get``
and ``crm customer list`` never use (bench/cli_startup.py).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer._click import Command, Context  # Typer's own copy of Click


@dataclass(frozen=True)
class Lazy:
    """Where a command is defined: ``module``'s ``attribute``, a Typer app or a function."""

    module: str
    attribute: str
    help: str  # the line in the list of commands; a group's help too


# Commands built ahead by the resident server (worker/cli/resident/server.py), which
# its forked children then find ready; a command run in-process is built on use.
_prebuilt: dict[tuple[str, Lazy], Command] = {}


def prebuild(name: str, lazy: Lazy) -> None:
    _prebuilt[name, lazy] = load_command(name, lazy)


def load_command(name: str, lazy: Lazy) -> Command:
    prebuilt = _prebuilt.get((name, lazy))
    if prebuilt is not None:
        return prebuilt
    target = getattr(importlib.import_module(lazy.module), lazy.attribute)
    if isinstance(target, typer.Typer):
        command: Command = typer.main.get_group(target)
        command.help = lazy.help
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


def lazy_group(commands: dict[str, Lazy]) -> type[TyperGroup]:
    """A Typer group class (``typer.Typer(cls=…)``) that also offers ``commands``,
    each imported the first time it is looked up: to run it, or to list the group's
    help."""

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: Context) -> list[str]:
            own = super().list_commands(ctx)
            return [*own, *(name for name in commands if name not in own)]

        def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
            if cmd_name not in self.commands and cmd_name in commands:
                self.commands[cmd_name] = load_command(cmd_name, commands[cmd_name])
            return super().get_command(ctx, cmd_name)

    return LazyGroup

"""The ``crm`` executable: hand the command to the resident server, or run it here.

Standard library only: this is all a command served by the resident server imports
(see worker/cli/resident/__init__.py). A command runs in this process, exactly as
``python -m worker.cli.main`` runs it, when

- ``CRM_RESIDENT=0`` (or ``false``, ``no``, ``off``) turns the server off;
- the platform lacks fork, Unix sockets, passing descriptors or peer credentials;
- the command runs until it is stopped (the services ``crm worker`` and
  ``crm watch``), is interactive with a browser (``crm gmail auth``), installs shell
  completion (which looks at the parent process for the shell), or is
  ``crm resident`` itself;
- no server took it. Then, once the command is done, a server is started in the
  background for the next one.
"""

from __future__ import annotations

import sys

from worker.cli.resident.availability import platform_supports_resident, resident_enabled

# Top-level commands (and group/command pairs) that never go to the server.
IN_PROCESS_COMMANDS = frozenset({"worker", "watch", "resident"})
IN_PROCESS_SUBCOMMANDS = frozenset({("gmail", "auth")})
IN_PROCESS_OPTIONS = frozenset({"--install-completion", "--show-completion"})
ROOT_OPTIONS_WITH_VALUE = frozenset({"--config"})


def command_words(args: list[str]) -> list[str]:
    """The command and sub-command named by ``args`` (root options skipped)."""
    words: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--":
            break
        elif arg in ROOT_OPTIONS_WITH_VALUE and not words:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
            if len(words) == 2:
                break
    return words


def runs_in_process(args: list[str]) -> bool:
    if any(arg in IN_PROCESS_OPTIONS for arg in args):
        return True
    words = command_words(args)
    return bool(words) and (
        words[0] in IN_PROCESS_COMMANDS or tuple(words[:2]) in IN_PROCESS_SUBCOMMANDS
    )


def run_in_process() -> None:
    from worker.cli.main import main as run

    run()


def main() -> None:
    if not resident_enabled() or not platform_supports_resident() or runs_in_process(sys.argv[1:]):
        run_in_process()
        return
    from worker.cli.resident import client

    try:
        code = client.run_by_server(list(sys.argv))
    except client.NotHandedOverError as refusal:
        try:
            run_in_process()
        finally:
            if refusal.start_server:
                client.start_server()
    else:
        sys.exit(code)


if __name__ == "__main__":
    main()

"""A forked child of the server becomes the caller's command.

It takes the caller's descriptors 0, 1 and 2, environment, working directory and
umask, rebuilds sys.stdin, sys.stdout and sys.stderr as the interpreter builds them
at start-up, puts back the signal handlers a new interpreter has, and runs the same
``worker.cli.main.main()`` as ``python -m worker.cli.main``. It leaves with
``os._exit`` so that nothing of the server (its sockets, its lock) is closed or
flushed on its behalf.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import locale
import os
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Iterable
from typing import Any, NoReturn

from worker.cli.resident import terminal
from worker.cli.resident.protocol import STANDARD_FDS

STREAM_NAMES = ("stdin", "stdout", "stderr")


def reset_signals() -> None:
    """The handlers of a new interpreter: SIGINT raises KeyboardInterrupt, SIGPIPE
    and SIGXFSZ are ignored, the rest do what the system does. (The caller's signals
    stay blocked, as the server blocked them for the fork, until the command runs.)"""
    signal.set_wakeup_fd(-1)
    for signum in signal.valid_signals():
        if signum in (signal.SIGKILL, signal.SIGSTOP):
            continue
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _stream(fd: int, facts: dict[str, Any]) -> io.TextIOWrapper:
    writing = fd != 0
    binary = io.open(fd, "wb" if writing else "rb", closefd=False)  # noqa: UP020, SIM115
    return io.TextIOWrapper(
        binary,
        encoding=facts["encoding"],
        errors=facts["errors"],
        newline="\n",
        line_buffering=facts["line_buffering"],
        write_through=facts["write_through"],
    )


def rebuild_streams(streams: list[dict[str, Any]]) -> None:
    for fd, name, facts in zip(STANDARD_FDS, STREAM_NAMES, streams, strict=True):
        stream = _stream(fd, facts)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def take_over(request: dict[str, Any], fds: list[int], inherited: Iterable[int]) -> None:
    """Become the caller's process (but for the pid)."""
    os.setpgid(0, 0)  # the caller's signals go to this group (worker/cli/resident/client.py)
    reset_signals()
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    for target, fd in zip(STANDARD_FDS, fds, strict=True):
        os.dup2(fd, target)
    for fd in fds:
        if fd not in STANDARD_FDS:
            os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()  # TZ
    with contextlib.suppress(locale.Error):
        locale.setlocale(locale.LC_CTYPE, "")  # what a new interpreter does
    os.chdir(request["cwd"])
    os.umask(int(request["umask"]))
    rebuild_streams(request["streams"])
    terminal.redetect()
    sys.argv = list(request["argv"])
    # The caller's script is __main__, not the server's module: Click names the
    # program in usage lines after it.
    script = types.ModuleType("__main__")
    script.__file__ = sys.argv[0]
    sys.modules["__main__"] = script


def _exit_code(code: object) -> int:
    """As the interpreter turns ``sys.exit(code)`` into a status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def run_main() -> int:
    from worker.cli.main import main

    try:
        main()
    except SystemExit as exit_:
        return _exit_code(exit_.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        _finish()
        # As the interpreter does on an uncaught KeyboardInterrupt: die of SIGINT.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        return 130
    except BaseException:
        sys.excepthook(*sys.exc_info())
        return 1
    return 0


def _finish() -> None:
    """What an exiting interpreter does: wait for the command's own threads, run its
    exit handlers, flush the streams."""
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def run(request: dict[str, Any], fds: list[int], inherited: Iterable[int]) -> NoReturn:
    code = 1
    try:
        take_over(request, fds, inherited)
        # A Ctrl-C sent while the child got ready arrives now, in the command.
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        code = run_main()
        _finish()
    except BaseException:
        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:  # noqa: S110  (nowhere left to report to)
            pass
    finally:
        os._exit(code)

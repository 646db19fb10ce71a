"""The command line: the only package that imports typer.

Each command parses its arguments, calls one library function and renders the result. Modules
here import only typer and the standard library at module level, so that starting the program
stays fast; heavier imports happen inside the command that needs them.

This module itself imports nothing heavy, so that :func:`main` runs as early as possible: until
a command starts, Ctrl-C ends the process at once with exit code 130 and no traceback (nothing
has been written yet); from then on it raises ``KeyboardInterrupt`` for the command to handle.
"""

from __future__ import annotations

import os
import signal

from tasker_ctl.errors import EXIT_INTERRUPTED

TYPE_CHECKING = False  # not typing's: importing typing would widen the window before main()
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

    from tasker_ctl.cli.root import app, build_app

__all__ = ["app", "build_app", "main", "start_up_finished"]


def _interrupted_during_start_up(signum: int, frame: FrameType | None) -> None:
    os._exit(EXIT_INTERRUPTED)


def main() -> None:
    """Console-script entry point: quiet on Ctrl-C during start-up, then the command line."""
    signal.signal(signal.SIGINT, _interrupted_during_start_up)
    from tasker_ctl.cli.root import main as run_command_line

    run_command_line()


def start_up_finished() -> None:
    """A command starts: Ctrl-C raises ``KeyboardInterrupt`` again (if :func:`main` changed it)."""
    if signal.getsignal(signal.SIGINT) is _interrupted_during_start_up:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def __getattr__(name: str) -> Any:
    # The command tree is built only when something asks for it (tests, introspection).
    if name in ("app", "build_app"):
        from tasker_ctl.cli import root

        return getattr(root, name)
    raise AttributeError(name)

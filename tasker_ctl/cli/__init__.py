"""The command line: the only package that imports typer.

Each command parses its arguments, calls one library function and renders the result. Modules
here import only typer and the standard library at module level, so that starting the program
stays fast; heavier imports happen inside the command that needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tasker_ctl.cli.root import build_app, main

if TYPE_CHECKING:
    from tasker_ctl.cli.root import app

__all__ = ["app", "build_app", "main"]


def __getattr__(name: str) -> Any:
    # The whole command tree is built only when something asks for it (tests, introspection).
    if name == "app":
        from tasker_ctl.cli import root

        return root.app
    raise AttributeError(name)

"""The command line: the only package that imports typer.

Each command parses its arguments, calls one library function and renders the result. Modules
here import only typer and the standard library at module level, so that starting the program
stays fast; heavier imports happen inside the command that needs them.
"""

from __future__ import annotations

from tasker_ctl.cli.app import app, main

__all__ = ["app", "main"]

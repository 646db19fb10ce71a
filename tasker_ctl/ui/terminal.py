"""The one place rich consoles are made: colour and width follow the terminal and NO_COLOR."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def make_console(
    *, width: int | None = None, stderr: bool = False, no_color: bool = False
) -> Console:
    """A console for stdout (or stderr) that is plain when piped or when NO_COLOR is set."""
    stream = sys.stderr if stderr else sys.stdout
    plain = no_color or bool(os.environ.get("NO_COLOR")) or not stream.isatty()
    return Console(
        file=stream,
        width=width,
        no_color=plain,
        color_system=None if plain else "auto",
        highlight=False,
        soft_wrap=False,
    )

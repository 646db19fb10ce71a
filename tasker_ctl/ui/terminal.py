"""The one place rich consoles are made: colour and width follow the terminal and NO_COLOR.

Plain text that rich would print unchanged can also be written without importing rich at all
(:func:`write_plain_blocks`), which keeps a large ``task status`` fast.
"""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

_DEFAULT_WIDTH = 80
_STANDARD_FDS = (0, 1, 2)
# Characters besides printable ASCII that rich shows one cell wide and leaves as they are.
_NARROW_SYMBOLS = "•✓"


def make_console(
    *, width: int | None = None, stderr: bool = False, no_color: bool = False
) -> Console:
    """A console for stdout (or stderr) that is plain when piped or when NO_COLOR is set."""
    from rich.console import Console

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


def console_width() -> int | None:
    """The width a :func:`make_console` console wraps at, or None where only rich can tell.

    Rich takes ``COLUMNS``, else the size of the first standard stream that is a terminal, else
    80 columns. It decides otherwise for dumb terminals, inside Jupyter and on Windows consoles;
    there this answers None so that the caller lets rich render.
    """
    if sys.platform == "win32" or hasattr(builtins, "get_ipython"):
        return None
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return None
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for descriptor in _STANDARD_FDS:
        try:
            width = os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):
            continue
        return width or _DEFAULT_WIDTH
    return _DEFAULT_WIDTH


def write_plain_blocks(blocks: Sequence[str], stream: TextIO) -> bool:
    """Write ``blocks`` as ``make_console().print(Group(*map(Text, blocks)))`` would, sans rich.

    That is possible when rich would change nothing: every line is printable ASCII (or a narrow
    symbol such as ``•``) and fits the console width. Then each block is written followed by a
    newline, and True returned; otherwise nothing is written and False returned.
    """
    width = console_width()
    if width is None or not all(_unchanged_by_rich(block, width) for block in blocks):
        return False
    stream.write("".join(f"{block}\n" for block in blocks))
    return True


def _unchanged_by_rich(block: str, width: int) -> bool:
    if max(map(len, block.split("\n"))) > width:
        return False
    if not block.isascii():
        for symbol in _NARROW_SYMBOLS:
            block = block.replace(symbol, "")
    return block.isascii() and block.replace("\n", "").isprintable()

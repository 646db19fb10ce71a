"""Plain status lines for the command line: ``✓`` on stdout, ``error:``/``hint:``/``!`` on stderr.

These are deliberately free of rich so that short commands start fast; rich views live in
``tasker_ctl.ui``. Colour is used only on a terminal, and never when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"

_color_disabled = False
_verbosity = 0


def set_verbosity(level: int) -> None:
    """How much ``note`` says: 0 nothing, 1 and more the details (``-v``, ``-vv``)."""
    global _verbosity  # noqa: PLW0603 - one process-wide setting from the root callback
    _verbosity = level


def note(message: str, *, level: int = 1) -> None:
    """``· message`` on stderr when the verbosity is at least ``level``."""
    if _verbosity >= level:
        print(_paint(f"· {message}", _DIM, sys.stderr), file=sys.stderr)


def disable_color() -> None:
    """Turn colour off for the rest of the process (``--no-color``)."""
    global _color_disabled  # noqa: PLW0603 - one process-wide switch set by the root callback
    _color_disabled = True


def color_enabled(stream: TextIO) -> bool:
    """Colour only for a terminal, and never with ``NO_COLOR`` or ``--no-color``."""
    if _color_disabled or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _paint(text: str, code: str, stream: TextIO) -> str:
    return f"{code}{text}{_RESET}" if color_enabled(stream) else text


def plural(count: int, noun: str) -> str:
    """``1 step``, ``2 steps``: a count with its noun agreeing."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def success(message: str, *, stderr: bool = False) -> None:
    """``✓ message`` on stdout (on stderr where stdout carries data or code)."""
    stream = sys.stderr if stderr else sys.stdout
    print(_paint("✓", _GREEN, stream), message, file=stream)


def warning(message: str) -> None:
    """``! message`` on stderr, so that stdout stays valid data."""
    print(_paint("!", _YELLOW, sys.stderr), message, file=sys.stderr)


def error_json(code: str, exit_code: int, message: str, hint: str | None = None) -> None:
    """An error for scripts (``--format json``): one JSON line on stderr,
    ``{"error": {"code", "exit_code", "message", "hint"}}``."""
    import json

    document = {"code": code, "exit_code": exit_code, "message": message, "hint": hint}
    print(json.dumps({"error": document}, ensure_ascii=False), file=sys.stderr, flush=True)


def error(message: str, hint: str | None = None) -> None:
    """``error: message`` and, when given, ``hint: …`` on stderr."""
    print(f"{_paint('error:', _RED, sys.stderr)} {message}", file=sys.stderr)
    if hint:
        print(f"{_paint('hint:', _DIM, sys.stderr)} {hint}", file=sys.stderr)

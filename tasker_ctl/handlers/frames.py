"""An exception's traceback as data: the frames, their source lines, and the text.

The frames are captured when the handler fails (file, line, function and the source line as it
was then), so a later edit of the handler does not change what ``task step`` shows. Frames inside
tasker-ctl itself or the ``tasker_core`` layer are marked ``internal``: a developer reading why
their step failed wants their own code first.
"""

from __future__ import annotations

import linecache
import os
import sysconfig
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Any

MAX_FRAMES = 60
"""Frames kept per exception: the outermost few and the innermost rest (deep recursion)."""
MAX_TRACEBACK_CHARS = 20_000
_OUTERMOST_KEPT = 10
CONTEXT_LINES = 3
"""Source lines kept on each side of a frame's line (what a traceback display shows)."""
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep
_CORE_MARKER = f"{os.sep}tasker_core{os.sep}"


def is_internal(filename: str) -> bool:
    """Whether ``filename`` belongs to tasker-ctl or to the ``tasker_core`` layer."""
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        resolved = filename
    return resolved.startswith(_PACKAGE_DIR) or _CORE_MARKER in resolved


@lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    return tuple(str(Path(path).resolve()) + os.sep for path in found)


def is_library(filename: str) -> bool:
    """Whether ``filename`` is in the standard library or an installed package."""
    return filename.startswith(_library_dirs()) or filename.startswith("<")


def exception_frames(exc: BaseException) -> list[dict[str, Any]]:
    """``exc``'s frames, outermost first: ``file``, ``line``, ``function``, ``source`` (the
    line), ``internal`` and ``context`` (the lines around it).

    The source is read now (through :mod:`linecache`), while the file is as it ran.
    """
    summary = traceback.extract_tb(exc.__traceback__)
    frames: list[dict[str, Any]] = [
        {
            "file": str(Path(frame.filename).resolve()) if frame.filename else "",
            "line": frame.lineno,
            "function": frame.name,
            "source": (frame.line or "").strip(),
            "internal": is_internal(frame.filename),
            "context": _context(frame.filename, frame.lineno),
        }
        for frame in summary
    ]
    if len(frames) > MAX_FRAMES:
        cut = len(frames) - MAX_FRAMES
        omitted: dict[str, Any] = {
            "file": "",
            "line": None,
            "function": f"… {cut} frames omitted",
            "source": "",
            "internal": False,
        }
        inner = frames[-(MAX_FRAMES - _OUTERMOST_KEPT) :]
        frames = [*frames[:_OUTERMOST_KEPT], omitted, *inner]
    return frames


def _context(filename: str, lineno: int | None) -> dict[str, Any] | None:
    """The lines around ``lineno`` as they are now: ``{"first": n, "lines": [...]}``."""
    if not lineno or filename.startswith("<"):
        return None
    first = max(1, lineno - CONTEXT_LINES)
    lines = [
        linecache.getline(filename, n).rstrip("\n")
        for n in range(first, lineno + CONTEXT_LINES + 1)
    ]
    while lines and not lines[-1]:
        lines.pop()
    return {"first": first, "lines": lines} if lines else None


def traceback_text(exc: BaseException) -> str:
    """The traceback as Python prints it (with chained exceptions), cut at a generous size."""
    text = "".join(traceback.format_exception(exc))
    if len(text) > MAX_TRACEBACK_CHARS:
        text = "…\n" + text[-MAX_TRACEBACK_CHARS:]
    return text


def raised_at(frames: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Where it went wrong in the developer's code: the innermost frame outside tasker-ctl,
    the standard library and installed packages (else outside tasker-ctl, else the innermost).
    """
    real = [frame for frame in frames if frame.get("line") is not None]
    outside = [frame for frame in real if not frame.get("internal")]
    own = [frame for frame in outside if not is_library(str(frame.get("file") or ""))]
    chosen = own or outside or real
    return chosen[-1] if chosen else None


def display_path(filename: str, cwd: Path | None = None) -> str:
    """``filename`` relative to the current directory when it lies below it, else as given."""
    base = cwd or Path.cwd()
    try:
        return Path(filename).relative_to(base).as_posix()
    except ValueError:
        return filename


def traceback_metadata(exc: BaseException) -> dict[str, Any]:
    """What a failure's metadata records about ``exc``: its type, frames and traceback text."""
    frames = exception_frames(exc)
    metadata: dict[str, Any] = {
        "exception_type": type(exc).__name__,
        "exception_module": type(exc).__module__,
        "traceback": traceback_text(exc),
        "frames": frames,
    }
    where = raised_at(frames)
    if where is not None:
        metadata["raised_at"] = {"file": where["file"], "line": where["line"]}
    return metadata


__all__ = [
    "MAX_FRAMES",
    "display_path",
    "exception_frames",
    "is_internal",
    "raised_at",
    "traceback_metadata",
    "traceback_text",
]

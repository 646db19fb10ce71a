"""A stored error's traceback drawn as rich draws a live one, from the frames kept as data.

The frames were captured when the handler failed, with the source lines around each; those
lines are what is shown, even if the file has changed since. Frames inside tasker-ctl and the
``tasker_core`` layer are left out unless ``full`` is asked for.
"""

from __future__ import annotations

import linecache
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.text import Text
from rich.traceback import Frame, Stack, Trace, Traceback


def shown_frames(frames: Sequence[Mapping[str, Any]], *, full: bool) -> list[Mapping[str, Any]]:
    """The frames a reader sees: their own (and libraries'), or every frame with ``full``."""
    return [frame for frame in frames if full or not frame.get("internal")]


def traceback_renderable(
    exception_type: str,
    message: str,
    frames: Sequence[Mapping[str, Any]],
    *,
    full: bool,
    width: int,
) -> RenderableType:
    """The traceback panel, with a line saying how many tasker-ctl frames are hidden."""
    shown = shown_frames(frames, full=full)
    trace = Trace(
        stacks=[
            Stack(
                exc_type=exception_type,
                exc_value=message,
                frames=[
                    Frame(
                        filename=str(frame.get("file") or "<unknown>"),
                        lineno=int(frame.get("line") or 0),
                        name=str(frame.get("function") or ""),
                        line=str(frame.get("source") or ""),
                    )
                    for frame in shown
                ],
            )
        ]
    )
    traceback = Traceback(trace, width=width, code_width=max(width - 12, 20), extra_lines=3)
    hidden = len(frames) - len(shown)
    parts: list[RenderableType] = [_CapturedSource(traceback, shown)]
    if hidden:
        parts.append(
            Text(
                f"({hidden} tasker-ctl frame{'' if hidden == 1 else 's'} hidden: "
                "--full-traceback shows them)",
                style="dim",
            )
        )
    return Group(*parts)


class _CapturedSource:
    """Renders ``traceback`` while the source lines come from the captured frames."""

    def __init__(self, traceback: Traceback, frames: Sequence[Mapping[str, Any]]) -> None:
        self.traceback = traceback
        self.frames = frames

    def __rich_console__(self, console: Console, options: Any) -> Iterator[Any]:
        with _captured_lines(self.frames):
            yield from console.render(self.traceback, options)


@contextmanager
def _captured_lines(frames: Sequence[Mapping[str, Any]]) -> Iterator[None]:
    """Make :mod:`linecache` answer with the captured lines of each frame's file."""
    files: dict[str, dict[int, str]] = {}
    for frame in frames:
        filename = str(frame.get("file") or "")
        context = frame.get("context")
        if not filename or not isinstance(context, Mapping):
            continue
        known = files.setdefault(filename, {})
        first = int(context.get("first") or 1)
        for offset, line in enumerate(context.get("lines") or []):
            known[first + offset] = str(line)
        if frame.get("line") and frame.get("source") and int(frame["line"]) not in known:
            known[int(frame["line"])] = str(frame["source"])
    saved = {name: linecache.cache.get(name) for name in files}
    try:
        for filename, known in files.items():
            last = max(known)
            lines = [known.get(number, "") + "\n" for number in range(1, last + 1)]
            linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
        yield
    finally:
        for filename, entry in saved.items():
            if entry is None:
                linecache.cache.pop(filename, None)
            else:
                linecache.cache[filename] = entry

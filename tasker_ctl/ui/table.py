"""One row per record, aligned, cut to the terminal's width: the tables of ``task list``,
``task steps``, ``task audit`` and ``task templates`` (as ``gh run list`` or ``kubectl get``).

Plain text, standard library only, so that a listing never pays for importing rich. Columns are
separated by two spaces; when the rows are wider than the terminal, the columns with a
``shrink`` weight give up width (the widest, weighted, first; never below their heading) and a
cut cell ends with ``…``. Columns that identify a record
(UUIDs, times, states) do not shrink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GAP = "  "
ELLIPSIS = "…"
_MIN_SHRUNK_WIDTH = 6


@dataclass(frozen=True)
class Column:
    """A column's heading and how readily it is cut to fit the width: 0 never; a column of
    ``shrink`` 2 gives up width as if it were twice as wide as it is."""

    heading: str
    shrink: int = 0


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> str:
    """The heading line and one line per row, each at most ``width`` columns where the
    shrinkable columns allow it, without trailing spaces; ends with a newline."""
    widths = [
        max([len(column.heading), *(len(row[index]) for row in rows)])
        for index, column in enumerate(columns)
    ]
    _fit(columns, widths, width)
    lines = [_line([column.heading for column in columns], widths)]
    lines.extend(_line(row, widths) for row in rows)
    return "".join(f"{line}\n" for line in lines)


def _fit(columns: Sequence[Column], widths: list[int], width: int) -> None:
    """Narrow the shrinkable columns (see :class:`Column`) until the line fits ``width``: one
    character at a time from the column whose width times its ``shrink`` is largest."""
    floors = [
        max(len(column.heading), _MIN_SHRUNK_WIDTH) if column.shrink else widths[index]
        for index, column in enumerate(columns)
    ]
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - width
    while excess > 0:
        candidates = [i for i, column in enumerate(columns) if widths[i] > floors[i]]
        if not candidates:
            return
        chosen = max(candidates, key=lambda i: (widths[i] * columns[i].shrink, -i))
        widths[chosen] -= 1
        excess -= 1


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return GAP.join(
        shorten(cell, w).ljust(w) for cell, w in zip(cells, widths, strict=True)
    ).rstrip()


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, its last one ``…`` when something was cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS

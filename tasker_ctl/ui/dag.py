"""Draw a workflow DAG in the terminal: the layout of ``tasker_ctl.ui.graph_layout``, coloured.

With step states (``task status``), each box carries a mark and a word (``✓ complete``,
``↻ retrying``…) so that the picture reads the same without colour (``NO_COLOR``, pipes), and the
whole box takes its state's colour. Without states (``template graph``) boxes are plain.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from tasker_ctl.ui.graph_layout import MIN_WIDTH, DagLayout, layout_dag

__all__ = ["CATEGORY_ORDER", "StateDisplay", "print_dag", "render_dag", "state_display"]


@dataclass(frozen=True, slots=True)
class StateDisplay:
    """How one step state looks: its display category, mark, word and rich style."""

    category: str
    mark: str
    word: str
    style: str

    @property
    def label(self) -> str:
        """Mark and word, e.g. ``✓ complete``: readable without colour."""
        return f"{self.mark} {self.word}"


_CATEGORY_LOOK: dict[str, tuple[str, str]] = {  # category -> (mark, style)
    "complete": ("✓", "green"),
    "running": ("●", "blue"),
    "retrying": ("↻", "yellow"),
    "error": ("✗", "red"),
    "pending": ("○", "dim"),
    "not_taken": ("–", "dim italic"),
}
CATEGORY_ORDER: tuple[str, ...] = tuple(_CATEGORY_LOOK)
"""Display categories in the order summaries list them."""

_STATE_LOOK: dict[str, tuple[str, str]] = {  # step state -> (category, word)
    "pending": ("pending", "pending"),
    "enqueued": ("running", "enqueued"),
    "in_progress": ("running", "running"),
    "enqueued_for_orchestration": ("running", "finishing"),
    "enqueued_as_error_for_orchestration": ("running", "failing"),
    "waiting_for_retry": ("retrying", "retrying"),
    "complete": ("complete", "complete"),
    "resolved_manually": ("complete", "resolved"),
    "error": ("error", "error"),
    "cancelled": ("error", "cancelled"),
    "not_taken": ("not_taken", "not taken"),  # a decision branch that was never created
}


def state_display(state: str) -> StateDisplay:
    """The look of a step state; an unknown state is shown as ``? state``, uncoloured."""
    category, word = _STATE_LOOK.get(state, ("unknown", state))
    mark, style = _CATEGORY_LOOK.get(category, ("?", ""))
    return StateDisplay(category=category, mark=mark, word=word, style=style)


def render_dag(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    states: Mapping[str, str] | None = None,
    *,
    width: int,
    details: Mapping[str, str] | None = None,
) -> Text:
    """The DAG drawn within ``width`` columns; boxes coloured by ``states`` when given.

    ``edges`` run from parent to child. A step missing from ``states`` is shown as pending.
    ``details`` adds a short text after a step's state word, e.g. ``"2/3"`` attempts.
    Raises ValueError for a duplicate step, an unknown step in an edge, or a cycle.
    """
    looks: dict[str, StateDisplay] = {}
    labels: dict[str, str] = {}
    if states is not None:
        for name in nodes:
            looks[name] = state_display(states.get(name, "pending"))
            extra = (details or {}).get(name)
            labels[name] = f"{looks[name].label} {extra}" if extra else looks[name].label

    def summarize(hidden: Sequence[str]) -> str:
        counts = Counter(looks[name].category for name in hidden)
        order = [*CATEGORY_ORDER, "unknown"]
        return " ".join(
            f"{_CATEGORY_LOOK.get(c, ('?', ''))[0]} {counts[c]}" for c in order if counts[c]
        )

    layout = layout_dag(
        nodes,
        edges,
        labels=labels,
        max_width=max(width, MIN_WIDTH),
        summarize=summarize if states is not None else None,
    )
    text = Text(layout.text, no_wrap=True, overflow="ignore")
    if states is not None:
        _colour_boxes(text, layout, looks)
    return text


def _colour_boxes(text: Text, layout: DagLayout, looks: Mapping[str, StateDisplay]) -> None:
    """Style every cell of each box; a summary box only when all its steps look the same."""
    line_start = [0]
    for line in layout.lines:
        line_start.append(line_start[-1] + len(line) + 1)
    for box in layout.boxes:
        styles = {looks[name].style for name in box.nodes}
        if len(styles) != 1 or not (style := styles.pop()):
            continue
        for row in range(box.top, box.top + box.height):
            start = line_start[row] + box.left
            text.stylize(style, start, start + box.width)


def print_dag(
    console: Console,
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    states: Mapping[str, str] | None = None,
    *,
    width: int | None = None,
    details: Mapping[str, str] | None = None,
) -> None:
    """Print the DAG on ``console``, as wide as the console unless ``width`` says otherwise."""
    drawing = render_dag(nodes, edges, states, width=width or console.width, details=details)
    console.print(drawing, crop=False)

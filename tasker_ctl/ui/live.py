"""The live view of ``task run`` on a terminal: one rich ``Live``, fed by the engine's events.

Layout, top to bottom: an overall bar (steps done / total, elapsed); finished steps on one line
(cut with ``…``); then one row per step that is running, waiting to retry, failed or still
pending, with its state, attempt ``n/max``, time in that state, countdown to the next retry and
its last error. Every line fits the console's width and the frame its height: rows that do not
fit are counted in a ``… N more`` line, running and failing steps first.

What handlers print appears above the view, prefixed with the step's name. While a handler's
debugger has the terminal the view steps aside, and comes back after. The final frame stays on
screen (the summary is printed after it by the caller).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from tasker_ctl.engine.events import (
    DebuggerActive,
    ErrorInfo,
    Event,
    RunFinished,
    RunStarted,
    RunStopping,
    StepOutput,
    StepTransitioned,
)
from tasker_ctl.ui.dag import state_display
from tasker_ctl.ui.run_lines import describe_error, duration_text, stopping_message

DONE_STATES = frozenset({"complete", "resolved_manually"})
MAX_ROWS = 30
_FIXED_LINES = 4  # the header, the finished line, the table's header, the "… more" line
# Steps that need attention come first when not every row fits.
_ROW_ORDER = {"error": 0, "waiting_for_retry": 1, "in_progress": 2}


@dataclass
class _Row:
    name: str
    state: str
    attempt: int
    max_attempts: int
    since: float
    retry_at: float | None = None
    error: ErrorInfo | None = None
    finished_in: float | None = None


class LiveRunView:
    """An event observer that keeps a live table of the run on ``console``."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.clock = clock
        self._rows: dict[str, _Row] = {}
        self._title = ""
        self._started = clock()
        self._finished_at: float | None = None
        self._lock = threading.Lock()
        self._live: Live | None = None
        self._stopping: str | None = None
        self._debugging = 0
        self._held_lines: list[Text] = []

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._apply(event)
        if isinstance(event, RunStarted) and self._live is None:
            self._start_live()
        elif isinstance(event, StepOutput):
            self._print_above(_output_text(event))
        elif isinstance(event, RunStopping):
            self._print_above(Text(stopping_message(event), style="yellow"))
        elif isinstance(event, DebuggerActive):
            self._step_aside(event.active)
        elif isinstance(event, RunFinished) and self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None

    def _start_live(self) -> None:
        self._live = Live(
            self,
            console=self.console,
            refresh_per_second=8,
            transient=False,
            redirect_stdout=False,
        )
        self._live.start()

    def _print_above(self, line: Text) -> None:
        """A line above the view (held back while a debugger has the terminal)."""
        if self._debugging:
            self._held_lines.append(line)
        else:
            self.console.print(line)

    def _step_aside(self, debugging: bool) -> None:
        """Clear the view while a debugger has the terminal; draw it again after."""
        if debugging:
            self._debugging += 1
            if self._debugging == 1 and self._live is not None:
                self._live.transient = True
                self._live.stop()
                self._live = None
            return
        self._debugging = max(0, self._debugging - 1)
        if self._debugging == 0:
            held, self._held_lines = self._held_lines, []
            for line in held:
                self.console.print(line)
            if self._live is None and self._finished_at is None:
                self._start_live()

    def _apply(self, event: Event) -> None:
        now = self.clock()
        if isinstance(event, RunStarted):
            self._title = f"{event.namespace}/{event.name} v{event.version}"
            self._started = now
            for step in event.steps:
                self._rows[step.name] = _Row(
                    step.name, step.state, step.attempts, step.max_attempts, now
                )
        elif isinstance(event, StepTransitioned):
            row = self._rows.setdefault(
                event.step_name,
                _Row(event.step_name, event.to_state, event.attempt, event.max_attempts, now),
            )
            if event.to_state == "in_progress":
                row.since = now
            row.state, row.attempt, row.max_attempts = (
                event.to_state,
                event.attempt,
                event.max_attempts,
            )
            if event.error is not None:
                row.error = event.error
            row.retry_at = now + event.delay_ms / 1000 if event.delay_ms is not None else None
            if event.to_state in DONE_STATES:
                row.finished_in = now - row.since
        elif isinstance(event, RunStopping):
            self._stopping = stopping_message(event)
        elif isinstance(event, RunFinished):
            self._finished_at = now

    def __rich__(self) -> RenderableType:
        with self._lock:
            return self.render()

    def render(self) -> RenderableType:
        """The current frame (also used by tests with a fixed clock and console)."""
        now = self._finished_at if self._finished_at is not None else self.clock()
        width, height = self.console.size
        rows = list(self._rows.values())
        done = [row for row in rows if row.state in DONE_STATES]
        elapsed = now - self._started
        counts = f"{len(done)}/{len(rows)} steps  {duration_text(elapsed)}"
        bar_width = max(0, min(30, width - len(counts) - len(self._title) - 2))
        if bar_width < 10:
            bar_width = 10 if width - len(counts) - 12 >= 12 else 0
        title_width = max(1, width - len(counts) - 1 - (bar_width + 1 if bar_width else 0))
        header = Table.grid(padding=(0, 1))
        header.add_column(no_wrap=True, overflow="ellipsis", max_width=title_width)
        if bar_width:
            header.add_column(width=bar_width, no_wrap=True)
        header.add_column(no_wrap=True)
        cells: list[RenderableType] = [Text(self._title, style="bold")]
        if bar_width:
            cells.append(ProgressBar(total=max(len(rows), 1), completed=len(done), width=bar_width))
        cells.append(Text(counts))
        header.add_row(*cells)
        parts: list[RenderableType] = [header]
        if done:
            parts.append(_finished_line(done, width))
        active = [row for row in rows if row.state not in DONE_STATES]
        room = min(MAX_ROWS, height - _FIXED_LINES - (1 if self._stopping else 0) - 1)
        if active and room >= 1:
            shown = active
            hidden: list[_Row] = []
            if len(active) > room:
                chosen = sorted(active, key=lambda row: _ROW_ORDER.get(row.state, 3))[:room]
                keep = {id(row) for row in chosen}
                shown = [row for row in active if id(row) in keep]
                hidden = [row for row in active if id(row) not in keep]
            parts.append(self._table(shown, now, width))
            if hidden:
                parts.append(_more_line(hidden))
        elif active:
            parts.append(_more_line(active))
        if self._stopping:
            parts.append(Text(self._stopping, style="yellow", no_wrap=True, overflow="ellipsis"))
        return Group(*parts)

    def _table(self, rows: list[_Row], now: float, width: int) -> Table:
        retrying = any(row.state == "waiting_for_retry" for row in rows)
        errors = any(row.error for row in rows)
        table = Table(
            box=None,
            padding=(0, 1),
            pad_edge=False,
            show_header=True,
            header_style="dim",
            width=width if errors else None,
        )
        name_width = max(4, min(max(len(row.name) for row in rows), width // 4))
        table.add_column("step", no_wrap=True, overflow="ellipsis", max_width=name_width)
        for column in ("state", "attempt", "time"):
            table.add_column(column, no_wrap=True)
        if retrying:
            table.add_column("retry", no_wrap=True)
        if errors:
            table.add_column("last error", no_wrap=True, overflow="ellipsis", ratio=1)
        for row in rows:
            look = state_display(row.state)
            countdown = ""
            if row.state == "waiting_for_retry" and row.retry_at is not None:
                countdown = f"in {duration_text(max(0.0, row.retry_at - now))}"
            running = row.state not in ("pending",)
            cells: list[RenderableType] = [
                Text(row.name),
                Text(look.label, style=look.style),
                f"{row.attempt}/{row.max_attempts}" if row.attempt else "",
                duration_text(now - row.since) if running else "",
            ]
            if retrying:
                cells.append(countdown)
            if errors:
                cells.append(Text(describe_error(row.error), style="red") if row.error else "")
            table.add_row(*cells)
        return table


def _finished_line(done: list[_Row], width: int) -> Text:
    """``✓ a 1.2s · b 0.3s``; when it does not fit, the count first and the rest cut."""
    names = Text()
    for index, row in enumerate(done):
        if index:
            names.append(" · ", style="dim")
        names.append(row.name)
        if row.finished_in is not None:
            names.append(f" {duration_text(row.finished_in)}", style="dim")
    line = Text("✓ ", style="green")
    if len(names) + 2 > width:
        line.append(f"{len(done)} done: ")
    line.append_text(names)
    line.no_wrap = True
    line.overflow = "ellipsis"
    return line


def _more_line(hidden_rows: list[_Row]) -> Text:
    hidden = Counter(row.state for row in hidden_rows)
    states = ", ".join(
        f"{count} {state_display(state).label.split(' ', 1)[-1]}" for state, count in hidden.items()
    )
    count = sum(hidden.values())
    text = Text(f"… {count} more step{'' if count == 1 else 's'} ({states})", style="dim")
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def _output_text(event: StepOutput) -> Text:
    line = Text(f"{event.step_name} | ", style="dim")
    line.append(event.text, style="red" if event.stream == "stderr" else "")
    return line

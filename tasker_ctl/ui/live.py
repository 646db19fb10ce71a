"""The live view of ``task run`` on a terminal: one rich ``Live``, fed by the engine's events.

Layout, top to bottom: an overall bar (steps done / total, elapsed); finished steps in one compact
wrapped line; then one row per step that is running, waiting to retry, failed or still pending,
with its state, attempt ``n/max``, time in that state, countdown to the next retry and its last
error. The final frame stays on screen (the summary is printed after it by the caller).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from tasker_ctl.engine.events import (
    ErrorInfo,
    Event,
    RunFinished,
    RunStarted,
    StepTransitioned,
)
from tasker_ctl.ui.dag import state_display
from tasker_ctl.ui.run_lines import describe_error

DONE_STATES = frozenset({"complete", "resolved_manually"})
MAX_ROWS = 30


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

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._apply(event)
        if isinstance(event, RunStarted) and self._live is None:
            self._live = Live(
                self,
                console=self.console,
                refresh_per_second=8,
                transient=False,
                redirect_stdout=False,
            )
            self._live.start()
        elif isinstance(event, RunFinished) and self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None

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
        elif isinstance(event, RunFinished):
            self._finished_at = now

    def __rich__(self) -> RenderableType:
        with self._lock:
            return self.render()

    def render(self) -> RenderableType:
        """The current frame (also used by tests with a fixed clock and console)."""
        now = self._finished_at if self._finished_at is not None else self.clock()
        rows = list(self._rows.values())
        done = [row for row in rows if row.state in DONE_STATES]
        elapsed = now - self._started
        header = Table.grid(padding=(0, 1))
        header.add_row(
            Text(self._title, style="bold"),
            ProgressBar(total=max(len(rows), 1), completed=len(done), width=30),
            Text(f"{len(done)}/{len(rows)} steps  {_seconds(elapsed)}"),
        )
        parts: list[RenderableType] = [header]
        if done:
            finished = Text("✓ ", style="green")
            for index, row in enumerate(done):
                if index:
                    finished.append(" · ", style="dim")
                finished.append(row.name)
                if row.finished_in is not None:
                    finished.append(f" {_seconds(row.finished_in)}", style="dim")
            parts.append(finished)
        active = [row for row in rows if row.state not in DONE_STATES]
        if active:
            parts.append(self._table(active[:MAX_ROWS], now))
            if len(active) > MAX_ROWS:
                parts.append(Text(f"… {len(active) - MAX_ROWS} more steps", style="dim"))
        return Group(*parts)

    def _table(self, rows: list[_Row], now: float) -> Table:
        table = Table(box=None, padding=(0, 2), show_header=True, header_style="dim")
        for column in ("step", "state", "attempt", "time", "next retry", "last error"):
            table.add_column(column, no_wrap=column != "last error", overflow="ellipsis")
        for row in rows:
            look = state_display(row.state)
            countdown = ""
            if row.state == "waiting_for_retry" and row.retry_at is not None:
                countdown = f"in {_seconds(max(0.0, row.retry_at - now))}"
            running = row.state not in ("pending",)
            table.add_row(
                Text(row.name),
                Text(look.label, style=look.style),
                f"{row.attempt}/{row.max_attempts}" if row.attempt else "",
                _seconds(now - row.since) if running else "",
                countdown,
                Text(describe_error(row.error), style="red") if row.error else "",
            )
        return table


def _seconds(value: float) -> str:
    return f"{value:.1f}s" if value < 60 else f"{int(value // 60)}m {int(value % 60)}s"

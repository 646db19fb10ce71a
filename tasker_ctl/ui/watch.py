"""``task status --watch``: one rich ``Live`` with the task's status frame, looked at again every
interval until the watch ends (the phases are :mod:`tasker_ctl.tasks.watch`'s).

What the watcher itself has to say (that it waits for a run, that the run is gone) is printed as
a line above the frame, so that it shows piped too, where a ``Live`` prints only its last frame
(and none when Ctrl-C stops the watch).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from tasker_ctl.tasks.views import TaskView
from tasker_ctl.tasks.watch import WatchPhase, watch_phase


def watch_task(
    first: TaskView,
    read: Callable[[], TaskView],
    render: Callable[[TaskView], RenderableType],
    console: Console,
    *,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    profile: str | None = None,
) -> TaskView:
    """Show ``render(view)`` and refresh it with ``read()`` every ``interval`` seconds until the
    task ends or its run is gone; return the last view. ``profile`` names the profile of the
    Tasker server the task is on (None: the local store). Ctrl-C raises ``KeyboardInterrupt``."""
    view = first
    phase = watch_phase(view)
    if phase is WatchPhase.WAITING:
        console.print(_note(waiting_message(view, profile)))
    with Live(render(view), console=console, auto_refresh=False, redirect_stdout=False) as live:
        try:
            while not phase.final:
                sleep(interval)
                view = read()
                phase = watch_phase(view)
                live.update(render(view), refresh=True)
        except KeyboardInterrupt:
            # On a terminal the frame stays as it is; piped, Ctrl-C adds nothing to the output.
            live.transient = not console.is_terminal
            raise
    if not console.is_terminal:
        console.line()  # piped, a Live ends its last frame without a newline
    if phase is WatchPhase.RUN_GONE:
        console.print(_note(run_gone_message(view), style="yellow"))
    return view


def waiting_message(view: TaskView, profile: str | None) -> str:
    """The lines that say the watcher waits for the task to start, and how to start it."""
    if profile is not None:
        return (
            "Waiting for the server to start the task; Ctrl-C stops watching.\n"
            f"  the server of profile: {profile}"
        )
    return (
        "Waiting for a run to start; Ctrl-C stops watching.\n"
        f"  start one with: tasker-ctl task run {view.task_uuid}"
    )


def run_gone_message(view: TaskView) -> str:
    """The lines that say no live run is left to move the task, and how to resume it."""
    run = view.run
    who = f"Its run (process {run.pid})" if run.pid is not None else "Its last run"
    return (
        f"{who} ended before the task came to rest: stopped watching.\n"
        f"  resume with: tasker-ctl task run {view.task_uuid}"
    )


def _note(message: str, style: str = "dim") -> Text:
    return Text(message, style=style)

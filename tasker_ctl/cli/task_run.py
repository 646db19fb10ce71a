"""``task run``: run a stored task's handlers locally."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasker_ctl.cli import collector, console
from tasker_ctl.cli.options import (
    ConcurrencyOption,
    DbOption,
    HandlersOption,
    OutputFormat,
    TaskArgument,
)
from tasker_ctl.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK

if TYPE_CHECKING:
    from tasker_ctl.engine.events import Event, Observer
    from tasker_ctl.engine.scheduler import RunResult


RunFormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="text, or json: one JSON event per line.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")]
TakeOverOption = Annotated[
    bool,
    typer.Option(
        "--take-over",
        help="Take the task from a run that holds it but is stuck (it stops at its next write).",
    ),
]


def run(
    task: TaskArgument,
    db: DbOption = None,
    handlers: HandlersOption = None,
    concurrency: ConcurrencyOption = 8,
    output_format: RunFormatOption = OutputFormat.TEXT,
    quiet: QuietOption = False,
    take_over: TakeOverOption = False,
) -> None:
    """Run a task's ready steps in parallel, with retries, until nothing more can run.

    Resumable: after a crash or Ctrl-C, run it again; finished steps are not run again.
    One run at a time: while a live run holds the task, another is refused (exit 75).
    Exit 0 when the task completes, 1 when a step failed for good, 130 on Ctrl-C.
    """
    result = execute(task, db, handlers, concurrency, output_format, quiet, take_over=take_over)
    raise typer.Exit(exit_code_for(result))


def execute(
    task: str,
    db: Path | None,
    handlers: list[str] | None,
    concurrency: int,
    output_format: OutputFormat,
    quiet: bool,
    *,
    take_over: bool = False,
) -> RunResult:
    """Run ``task`` with the reporting the flags ask for (shared with ``task create --run``)."""
    from tasker_ctl.config import heartbeat_seconds, load_project_config, resolve_db_path
    from tasker_ctl.engine.events import RunStarted, event_to_json
    from tasker_ctl.engine.lease import DEFAULT_HEARTBEAT_SECONDS
    from tasker_ctl.engine.scheduler import RunOptions
    from tasker_ctl.tasks.run import run_task
    from tasker_ctl.ui.run_lines import RunLog

    collector.resume()  # a run can last long and allocate without end
    config = load_project_config()
    modules = [*(handlers or []), *config.handler_packages]
    live = output_format is OutputFormat.TEXT and not quiet and sys.stdout.isatty()
    log = RunLog(echo=output_format is OutputFormat.TEXT and not quiet and not live)

    def say_takeover(event: Event) -> None:
        if isinstance(event, RunStarted) and event.taken_over_from:
            print(f"note: {event.taken_over_from}", file=sys.stderr, flush=True)

    observers: list[Observer] = [say_takeover, log]
    if live:
        from tasker_ctl.ui.live import LiveRunView
        from tasker_ctl.ui.terminal import make_console

        observers.append(LiveRunView(make_console(no_color=not console.color_enabled(sys.stdout))))
    if output_format is OutputFormat.JSON:

        def print_json(event: Event) -> None:
            print(json.dumps(event_to_json(event)), flush=True)

        observers.append(print_json)
    result = run_task(
        resolve_db_path(db, config),
        task,
        handler_modules=modules,
        observers=observers,
        options=RunOptions(
            concurrency=concurrency,
            heartbeat_seconds=heartbeat_seconds(DEFAULT_HEARTBEAT_SECONDS),
            take_over=take_over,
        ),
    )
    if output_format is OutputFormat.TEXT:
        for line in log.summary():
            print(line)
    for problem in result.observer_errors:
        print(f"! an observer failed and was detached: {problem}", file=sys.stderr)
    if result.stopped_by is not None:
        stop = result.stopped_by
        print(f"error: {stop.message}", file=sys.stderr)
        hint = (
            f"the task is {result.status}"
            if stop.action == "cancel"
            else f"continue with `tasker-ctl task run {result.task_uuid}`"
        )
        print(f"hint: {hint}", file=sys.stderr)
    return result


def exit_code_for(result: RunResult) -> int:
    """0 complete, 130 interrupted, 1 anything else (a step failed for good); a run stopped by
    an operator command from elsewhere: 1 when it cancelled the task, else 75 (run it again)."""
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.stopped_by is not None:
        return result.stopped_by.exit_code
    return EXIT_OK if result.succeeded else EXIT_FAILURE

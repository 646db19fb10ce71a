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


def run(
    task: TaskArgument,
    db: DbOption = None,
    handlers: HandlersOption = None,
    concurrency: ConcurrencyOption = 8,
    output_format: RunFormatOption = OutputFormat.TEXT,
    quiet: QuietOption = False,
) -> None:
    """Run a task's ready steps in parallel, with retries, until nothing more can run.

    Resumable: after a crash or Ctrl-C, run it again; finished steps are not run again.
    Exit 0 when the task completes, 1 when a step failed for good, 130 on Ctrl-C.
    """
    result = execute(task, db, handlers, concurrency, output_format, quiet)
    raise typer.Exit(exit_code_for(result))


def execute(
    task: str,
    db: Path | None,
    handlers: list[str] | None,
    concurrency: int,
    output_format: OutputFormat,
    quiet: bool,
) -> RunResult:
    """Run ``task`` with the reporting the flags ask for (shared with ``task create --run``)."""
    from tasker_ctl.cli.options import project_config
    from tasker_ctl.config import resolve_db_path
    from tasker_ctl.engine.events import event_to_json
    from tasker_ctl.engine.scheduler import RunOptions
    from tasker_ctl.tasks.run import run_task
    from tasker_ctl.ui.run_lines import RunLog

    collector.resume()  # a run can last long and allocate without end
    config = project_config()
    modules = [*(handlers or []), *config.handler_packages]
    live = output_format is OutputFormat.TEXT and not quiet and sys.stdout.isatty()
    log = RunLog(echo=output_format is OutputFormat.TEXT and not quiet and not live)
    observers: list[Observer] = [log]
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
        options=RunOptions(concurrency=concurrency),
    )
    if output_format is OutputFormat.TEXT:
        for line in log.summary():
            print(line)
    for problem in result.observer_errors:
        print(f"! an observer failed and was detached: {problem}", file=sys.stderr)
    return result


def exit_code_for(result: RunResult) -> int:
    """0 complete, 130 interrupted, 1 anything else (a step failed for good)."""
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if result.succeeded else EXIT_FAILURE

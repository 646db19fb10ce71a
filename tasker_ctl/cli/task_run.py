"""``task run``: run a stored task's handlers locally."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tasker_ctl.cli import collector, console
from tasker_ctl.cli.options import (
    ConcurrencyOption,
    DbOption,
    Durability,
    DurabilityOption,
    HandlersOption,
    OutputFormat,
    TaskArgument,
    Workers,
    WorkersOption,
)
from tasker_ctl.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK

if TYPE_CHECKING:
    from tasker_ctl.config import ProjectConfig
    from tasker_ctl.engine.events import Event, Observer
    from tasker_ctl.engine.scheduler import RunResult
    from tasker_ctl.tasks.run import TaskAlreadyBlockedError
    from tasker_ctl.ui.run_lines import RunLog


RunFormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="text, or json: one JSON event per line.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")]
RetryFailedOption = Annotated[
    bool,
    typer.Option(
        "--retry-failed", help="Reset every failed step first (as `task retry`), then run."
    ),
]
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
    retry_failed: RetryFailedOption = False,
    take_over: TakeOverOption = False,
    durability: DurabilityOption = None,
    workers: WorkersOption = None,
) -> None:
    """Run a task's ready steps in parallel, with retries, until nothing more can run.

    Every handler the task can reach is loaded first: if one cannot be, nothing runs (exit 78).
    Resumable: after a crash or Ctrl-C, run it again; finished steps are not run again.
    One run at a time: while a live run holds the task, another is refused (exit 75).
    Exit 0 when the task completes, 1 when a step failed for good, 130 on Ctrl-C.

    Example: tasker-ctl task run 3f9c2a1e
    """
    result = execute(
        task,
        db,
        handlers,
        concurrency,
        output_format,
        quiet,
        retry_failed,
        take_over=take_over,
        durability=durability,
        workers=workers,
    )
    raise typer.Exit(exit_code_for(result))


def execute(
    task: str,
    db: Path | None,
    handlers: list[str] | None,
    concurrency: int,
    output_format: OutputFormat,
    quiet: bool,
    retry_failed: bool = False,
    *,
    take_over: bool = False,
    durability: Durability | None = None,
    workers: Workers | None = None,
    config: ProjectConfig | None = None,
) -> RunResult:
    """Run ``task`` with the reporting the flags ask for (shared with ``task create --run``,
    which passes the ``config`` it read so that the file is not read again).

    A task already blocked by failures is reported (which steps, why, what to type next) and
    the command exits 1 without running anything.
    """
    from tasker_ctl.cli.options import project_config
    from tasker_ctl.config import (
        handler_modules,
        heartbeat_seconds,
        resolve_db_path,
        resolve_durability,
        worker_kind,
    )
    from tasker_ctl.engine.events import RunStarted, event_to_json
    from tasker_ctl.engine.lease import DEFAULT_HEARTBEAT_SECONDS
    from tasker_ctl.engine.scheduler import RunOptions
    from tasker_ctl.store import use_durability
    from tasker_ctl.tasks.run import TaskAlreadyBlockedError, run_task
    from tasker_ctl.ui.run_lines import RunLog

    collector.resume()  # a run can last long and allocate without end
    if config is None:
        config = project_config()
    use_durability(resolve_durability(durability, config))
    modules = handler_modules(handlers or [], config)
    live = output_format is OutputFormat.TEXT and not quiet and sys.stdout.isatty()
    log = RunLog(echo=output_format is OutputFormat.TEXT and not quiet and not live)

    def say_takeover(event: Event) -> None:
        if isinstance(event, RunStarted) and event.taken_over_from:
            print(f"note: {event.taken_over_from}", file=sys.stderr, flush=True)

    observers: list[Observer] = [say_takeover, _quiet_on_closed_pipe(log)]
    if live:
        from tasker_ctl.ui.live import LiveRunView
        from tasker_ctl.ui.terminal import make_console

        observers.append(LiveRunView(make_console(no_color=not console.color_enabled(sys.stdout))))
    if output_format is OutputFormat.JSON:

        def print_json(event: Event) -> None:
            sys.stdout.write(json.dumps(event_to_json(event)) + "\n")

        observers.append(_quiet_on_closed_pipe(print_json))
    store = resolve_db_path(db, config)
    try:
        result = run_task(
            store,
            task,
            handler_modules=modules,
            observers=observers,
            options=RunOptions(
                concurrency=concurrency,
                heartbeat_seconds=heartbeat_seconds(DEFAULT_HEARTBEAT_SECONDS),
                take_over=take_over,
                workers="process" if worker_kind(workers, config) == "process" else "thread",
            ),
            retry_failed=retry_failed,
        )
    except TaskAlreadyBlockedError as blocked:
        _report_already_blocked(blocked, output_format, store)
        raise typer.Exit(EXIT_FAILURE) from None
    if output_format is OutputFormat.TEXT:
        _print_summary(log, store, result)
        if result.status == "blocked_by_failures" and not result.interrupted:
            for line in _next_steps(store, result.task_uuid):
                print(line)
    for problem in result.observer_errors:
        console.warning(f"an observer failed and was detached: {problem}")
    if result.stopped_by is not None:
        stop = result.stopped_by
        hint = (
            f"the task is {result.status}"
            if stop.action == "cancel"
            else f"continue with `tasker-ctl task run {result.task_uuid}`"
        )
        console.error(stop.message, hint)
    return result


def _next_steps(store: Path, task_uuid: str) -> list[str]:
    """The commands to type after a run that ended blocked (failed steps read from the store)."""
    from tasker_ctl import tasks
    from tasker_ctl.ui.next_steps import next_steps_lines

    view = tasks.task_status(store, task_uuid)
    failed = [step.name for step in view.steps if step.state == "error"]
    return next_steps_lines(tasks.short_task_reference(store, task_uuid), failed)


def _report_already_blocked(
    blocked: TaskAlreadyBlockedError, output_format: OutputFormat, store: Path
) -> None:
    """Which steps block the task and why, then what to type (JSON: one ``task_blocked`` line)."""
    from tasker_ctl import tasks
    from tasker_ctl.engine.events import ErrorInfo
    from tasker_ctl.ui.next_steps import next_steps_lines
    from tasker_ctl.ui.run_lines import describe_error

    if output_format is OutputFormat.JSON:
        document = {
            "type": "task_blocked",
            "task_uuid": blocked.task_uuid,
            "failed_steps": [
                {"name": step.name, "attempts": step.attempts, "error": step.error}
                for step in blocked.failed
            ],
        }
        print(json.dumps(document), flush=True)
        return
    failed = console.plural(len(blocked.failed), "failed step")
    print(f"✗ Task {blocked.name} is already blocked: {failed}; nothing ran")
    for step in blocked.failed:
        error = step.error or {}
        found = error.get("metadata")
        metadata = found if isinstance(found, dict) else {}
        why = describe_error(
            ErrorInfo(
                message=str(error.get("message") or ""),
                error_type=error.get("error_type"),
                error_code=error.get("error_code"),
                exception_type=metadata.get("exception_type"),
            )
        )
        print(f"  ✗ {step.name}: {why} [attempt {step.attempts}/{step.max_attempts}]")
    reference = tasks.short_task_reference(store, blocked.task_uuid)
    for line in next_steps_lines(reference, [step.name for step in blocked.failed]):
        print(line)


def _print_summary(log: RunLog, db_path: Path, result: RunResult) -> None:
    """The summary, each line within the terminal's width, with the final steps' results."""
    from tasker_ctl.tasks.reads import final_results
    from tasker_ctl.ui.terminal import console_width

    results, count = final_results(db_path, result.task_uuid)
    lines = log.summary(console_width() or 80, results)
    if count > len(results):
        lines.append(f"  → … {count - len(results)} more final steps: `tasker-ctl task status`")
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()


def _quiet_on_closed_pipe(observer: Observer) -> Observer:
    """``observer``, writing to standard output, flushed once per burst of events (see
    :class:`~tasker_ctl.engine.events.EventBus`), its output ending quietly when the reader
    closed the pipe (``| head``). The run goes on and is recorded; only the printing stops."""
    return _StdoutObserver(observer)


class _StdoutObserver:
    def __init__(self, observer: Observer) -> None:
        self._observer = observer
        self._closed = False

    def __call__(self, event: Event) -> None:
        if not self._closed:
            self._quietly(self._observer, event)

    def end_batch(self) -> None:
        if not self._closed:
            self._quietly(lambda _: getattr(self._observer, "end_batch", sys.stdout.flush)(), None)

    def _quietly(self, action: Callable[[Any], None], argument: Any) -> None:
        try:
            action(argument)
        except BrokenPipeError:
            self._closed = True
            _discard_stdout()


def _discard_stdout() -> None:
    """Point standard output at the null device, so no later write or flush fails."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
    finally:
        os.close(devnull)


def exit_code_for(result: RunResult) -> int:
    """0 complete, 130 interrupted, 1 anything else (a step failed for good); a run stopped by
    an operator command from elsewhere: 1 when it cancelled the task, else 75 (run it again)."""
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.stopped_by is not None:
        return result.stopped_by.exit_code
    return EXIT_OK if result.succeeded else EXIT_FAILURE

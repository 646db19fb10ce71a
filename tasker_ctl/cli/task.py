"""``task`` commands: create, list, status, steps, step, audit, and the operator actions.

Each command resolves the store (``--db``, ``TASKER_CTL_DB``, the config file, default),
calls one function of :mod:`tasker_ctl.tasks.operations` and renders what it returns: plain
labelled lines in the reference's wording for people, or ``--format json`` for scripts. The
library is imported inside each command so that ``tasker-ctl --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasker_ctl.cli import collector, console
from tasker_ctl.cli.completion import complete_step as complete_step_name
from tasker_ctl.cli.options import (
    ConcurrencyOption,
    DbOption,
    DurabilityOption,
    FormatOption,
    HandlersOption,
    OutputFormat,
    TaskArgument,
    WorkersOption,
    db_path,
    print_json,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from tasker_ctl.tasks.views import (
        AttemptView,
        CreatedTask,
        OperatorResult,
        StepDetail,
        StepView,
        TaskLogs,
        TaskView,
    )
    from tasker_ctl.template.models import TaskTemplate


WATCH_INTERVAL_SECONDS = 0.5
# Past this many steps the drawing takes seconds and pages of screen; `task visualize` suits it.
GRAPH_STEP_LIMIT = 200

StepArgument = Annotated[
    str, typer.Argument(help="Step name or UUID.", autocompletion=complete_step_name)
]
ReasonOption = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the audit trail).")]


def _label(name: str, value: object, indent: str = "  ") -> None:
    print(f"{indent}{name}: {'-' if value is None else value}")


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


# --- create -----------------------------------------------------------------------------------


def create(
    *,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Template namespace.")],
    name: Annotated[str, typer.Option("--name", help="Template name.")],
    input_json: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="Task input: JSON, @FILE, or - for standard input "
            "(default: {}, where the template's input_schema accepts it).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option("--version", "-v", help="Template version (default: the highest)."),
    ] = None,
    templates: Annotated[
        list[Path] | None,
        typer.Option(
            "--templates",
            help="Directory searched for templates (repeatable); replaces TASKER_TEMPLATE_PATH "
            "and template-paths, ./templates is searched after it.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    initiator: Annotated[
        str | None, typer.Option("--initiator", help="Who asked for the task.")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the task exists.")] = None,
    priority: Annotated[
        int,
        typer.Option("--priority", "-p", min=1, max=10, help="Priority, 1 (lowest) to 10."),
    ] = 5,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="What this task is for.")
    ] = None,
    correlation_id: Annotated[
        str | None,
        typer.Option("--correlation-id", "-c", help="Correlation UUID (default: a new one)."),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key",
            help="With --profile: the server creates one task per key (refuses a second).",
        ),
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tag", help="With --profile: tag the task on the server (repeatable)."),
    ] = None,
    no_validate: Annotated[
        bool, typer.Option("--no-validate", help="Store the input without checking input_schema.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the task UUID.")] = False,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
    run_now: Annotated[
        bool, typer.Option("--run", help="Run the task right away (see `task run`).")
    ] = False,
    handlers: HandlersOption = None,
    concurrency: ConcurrencyOption = 8,
    workers: WorkersOption = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--env",
            help="Apply the template's environments.NAME overrides "
            "(default: the project's `environment`, where the template defines it).",
        ),
    ] = None,
    durability: DurabilityOption = None,
) -> None:
    """Create a task from a template: check the input, store the task and its first steps.

    With --run, run it at once; the exit code is then the run's (0 complete, 1 failed).

    Example: tasker-ctl task create -n default --name order_processing -i @order.json --run
    """
    from tasker_ctl.cli.backend import tasks
    from tasker_ctl.cli.options import project_config, read_json_option
    from tasker_ctl.config import max_input_bytes, resolve_durability, template_search_path
    from tasker_ctl.store import use_durability
    from tasker_ctl.tasks.create import CreateRequest

    config = project_config()
    use_durability(resolve_durability(durability, config))
    task_input = (
        {}
        if input_json is None
        else read_json_option(input_json, option="--input", max_bytes=max_input_bytes(config))
    )
    request = CreateRequest(
        namespace=namespace,
        name=name,
        version=version,
        input=task_input,
        search_path=template_search_path(templates or [], config),
        db_path=db_path(db, config),
        initiator=initiator,
        reason=reason,
        correlation_id=correlation_id,
        priority=priority,
        description=description,
        idempotency_key=idempotency_key,
        tags=tuple(tags or ()),
        validate_input=not no_validate,
        environment=environment or config.environment,
        environment_optional=environment is None,
        input_given=input_json is not None,
    )
    created = tasks.create_task(request)
    if output_format is OutputFormat.JSON:
        # With --run, every line is one JSON document: the task, then the run's events.
        document = {"type": "task_created", **created.to_json()} if run_now else created.to_json()
        print_json(document, indent=None if run_now else 2)
    elif quiet:
        print(created.task_uuid)
    else:
        _print_created(created)
    if run_now:
        from tasker_ctl.cli.task_run import execute, exit_code_for

        result = execute(
            created.task_uuid,
            db,
            handlers,
            concurrency,
            output_format,
            quiet,
            durability=durability,
            workers=workers,
            config=config,
        )
        raise typer.Exit(exit_code_for(result))


def _print_created(created: CreatedTask) -> None:
    console.success(f"Created task {created.task_uuid}")
    _label("Task UUID", created.task_uuid)
    _label("Name", f"{created.namespace}/{created.name} v{created.version}")
    _label("Status", created.status)
    _label("Total Steps", len(created.steps))
    _label("Priority", created.priority)
    if created.description:
        _label("Description", created.description)
    _label("Created at", created.created_at)
    _label("Template", created.template_path)


# --- reading ----------------------------------------------------------------------------------


def list_tasks(
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Only this namespace.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="Only tasks in this state.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-l", help="At most this many tasks.")] = 20,
    page: Annotated[
        int, typer.Option("--page", help="Which page of --limit tasks (1: the newest).")
    ] = 1,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """List tasks, newest first.

    Example: tasker-ctl task list -s error
    """
    from tasker_ctl.cli.backend import profile_name, tasks

    path = db_path(db)
    if path.is_dir() and profile_name() is None:
        from tasker_ctl.tasks.reads import no_store

        raise no_store(path)
    listing = tasks.list_tasks(path, namespace=namespace, status=status, limit=limit, page=page)
    if output_format is OutputFormat.JSON:
        print_json(listing.to_json())
        return
    if not listing.store_exists:
        print(f"No tasks: there is no store at {path} (`tasker-ctl task create` makes one)")
        return
    if not listing.items:
        print(f"No tasks found in {path}")
        return
    from tasker_ctl.ui.task_tables import task_list_table
    from tasker_ctl.ui.terminal import console_width

    sys.stdout.write(task_list_table(listing, console_width() or 80))
    shown = len(listing.items)
    if listing.total > shown:
        print(f"(showing {shown} of {listing.total} tasks: --limit shows more)")


def status(
    task: TaskArgument,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
    graph: Annotated[
        bool | None,
        typer.Option(
            "--graph/--no-graph",
            help=f"Draw the DAG with each step's state (default: up to {GRAPH_STEP_LIMIT} steps).",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            "-w",
            help="Refresh until the task comes to rest or its run is gone "
            "(a task that never ran: wait for a run to start).",
        ),
    ] = False,
    exit_status: Annotated[
        bool,
        typer.Option(
            "--exit-status",
            help="With --watch: exit 1 unless the task ends complete (blocked, cancelled, "
            "error, or its run gone).",
        ),
    ] = False,
) -> None:
    """Show a task: its status, progress, health, its DAG and steps (the reference's `task get`).

    Example: tasker-ctl task status 3f9c2a1e --watch
    """
    from tasker_ctl.cli.backend import tasks

    if exit_status and not watch:
        from tasker_ctl.errors import UsageError

        raise UsageError("--exit-status needs --watch", hint="add --watch (-w)")
    path = db_path(db)
    view = tasks.task_status(path, task)
    if output_format is OutputFormat.JSON:
        print_json(view.to_json())
        return
    if graph is None:
        graph = len(view.steps) <= GRAPH_STEP_LIMIT
    if not graph and not watch:
        from tasker_ctl.ui.terminal import write_plain_blocks

        # Without a drawing the output is plain lines: rich is needed only to wrap long ones.
        if write_plain_blocks(_status_texts(view, graph), sys.stdout):
            return
    from tasker_ctl.ui.terminal import make_console

    out = make_console(no_color=not console.color_enabled(sys.stdout))
    template = None
    if graph:
        # Only the drawing needs the template: it greys out branches a decision did not take.
        from tasker_ctl.template.models import TaskTemplate

        template = TaskTemplate.from_snapshot(tasks.task_template_snapshot(path, view.task_uuid))
    if not watch:
        out.print(_status_renderable(view, template, graph, out.width))
        return
    from tasker_ctl.cli.backend import profile_name
    from tasker_ctl.errors import EXIT_INTERRUPTED
    from tasker_ctl.tasks.watch import watch_exit_code
    from tasker_ctl.ui.watch import watch_task

    collector.resume()  # watching lasts until the task comes to rest
    task_uuid = view.task_uuid
    try:
        view = watch_task(
            view,
            lambda: tasks.task_status(path, task_uuid),
            lambda seen: _status_renderable(seen, template, graph, out.width),
            out,
            interval=WATCH_INTERVAL_SECONDS,
            profile=profile_name(),
        )
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None  # Ctrl-C only stops watching: no error
    raise typer.Exit(watch_exit_code(view, exit_status=exit_status))


def _status_texts(view: TaskView, graph: bool) -> list[str]:
    """The plain parts of the status view: details, a note when the graph is left out, steps."""
    texts = [_captured(_print_task_details, view)]
    if not graph and len(view.steps) > GRAPH_STEP_LIMIT:
        texts.append(f"(graph of {len(view.steps)} steps not drawn: --graph draws it)\n")
    texts.append(_captured(_print_step_table, view))
    return texts


def _status_renderable(
    view: TaskView, template: TaskTemplate | None, graph: bool, width: int
) -> RenderableType:
    """Details, the DAG coloured by state (branches not taken greyed), then the step list."""
    from rich.console import Group
    from rich.text import Text

    *leading, step_table = _status_texts(view, graph)
    parts: list[RenderableType] = [Text(text) for text in leading]
    if graph and template is not None and view.steps:
        from tasker_ctl.engine.dynamic import branches_not_taken
        from tasker_ctl.ui.dag import render_dag

        states = {step.name: step.state for step in view.steps}
        untaken, untaken_edges = branches_not_taken(template, states)
        attempts = {s.name: f"{s.attempts}/{s.max_attempts}" for s in view.steps if s.attempts}
        nodes = [step.name for step in view.steps] + untaken
        edges = list(view.edges) + untaken_edges
        states.update(dict.fromkeys(untaken, "not_taken"))
        parts.append(render_dag(nodes, edges, states, width=width, details=attempts))
    parts.append(Text(step_table))
    return Group(*parts)


def _captured(printer: Callable[[TaskView], None], view: TaskView) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        printer(view)
    return buffer.getvalue()


def _print_task_details(view: TaskView) -> None:
    print("Task Details")
    _label("UUID", view.task_uuid)
    _label("Name", view.name)
    _label("Namespace", view.namespace)
    _label("Version", view.version)
    if view.description:
        _label("Description", view.description)
    _label("Priority", view.priority)
    _label("Status", view.status)
    run = _run_text(view)
    if run is not None:
        _label("Run", run)
    _label("Created", view.created_at)
    _label("Updated", view.updated_at)
    _label("Completed", view.completed_at)
    _label("Steps", f"{view.completed_steps}/{view.total_steps} completed")
    _label("Progress", f"{view.completion_percentage:.1f}%")
    from tasker_ctl.tasks.advice import health_text, recommended_action_text

    health, execution = health_text(view)
    _label("Health", health)
    _label("Execution", execution)
    _label("Recommended action", recommended_action_text(view))
    _label("Correlation ID", view.correlation_id)


def _run_text(view: TaskView) -> str | None:
    """Whether a process runs the task now, or its last run stopped half-way (None: neither)."""
    run = view.run
    if run.state == "running":
        return f"running (pid {run.pid} since {run.since})"
    if run.state == "interrupted":
        return (
            f"interrupted: the last run stopped at {run.stopped_at} without finishing — "
            f"resume with `tasker-ctl task run {view.task_uuid}`"
        )
    return None


def _print_step_table(view: TaskView) -> None:
    print("Steps:")
    width = max((len(step.name) for step in view.steps), default=0)
    state_width = max((len(step.state) for step in view.steps), default=0)
    from tasker_ctl.tasks.watch import retry_in_seconds, utc_now
    from tasker_ctl.ui.table import shorten
    from tasker_ctl.ui.terminal import console_width

    now = utc_now()
    columns = console_width() or 80
    for step in view.steps:
        line = (
            f"  • {step.name:<{width}}  {step.state:<{state_width}}  "
            f"{step.attempts}/{step.max_attempts}"
        )
        retry_in = retry_in_seconds(step, now)
        if retry_in is not None:  # the countdown the run's live view shows
            from tasker_ctl.ui.run_lines import duration_text

            line += f"  retry in {duration_text(retry_in)}"
        extra = ""
        if step.error is not None and step.error.get("message"):
            extra = _error_line(step.error)
        elif step.result is not None and step.state in ("complete", "resolved_manually"):
            extra = "→ " + json.dumps(step.result, ensure_ascii=False, default=str)
        if not extra:
            print(line.rstrip())
            continue
        # What is left of the terminal's width, at least 20 columns: a narrow one wraps instead.
        print(line + shorten(f"  {extra}", max(columns - len(line), 20)))


def steps(
    task: TaskArgument,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """List a task's steps with their state, attempts and readiness.

    Example: tasker-ctl task steps 3f9c2a1e
    """
    from tasker_ctl.cli.backend import tasks

    view = tasks.task_steps(db_path(db), task)
    if output_format is OutputFormat.JSON:
        print_json([step.to_json() for step in view.steps])
        return
    from tasker_ctl.ui.task_tables import steps_table
    from tasker_ctl.ui.terminal import console_width

    sys.stdout.write(steps_table(view, console_width() or 80))


AttemptOption = Annotated[
    int | None,
    typer.Option("--attempt", help="Show this attempt's error (default: the last).", min=1),
]
FullTracebackOption = Annotated[
    bool,
    typer.Option("--full-traceback", help="Show the frames inside tasker-ctl and tasker_core too."),
]


def step(
    task: TaskArgument,
    step_name: StepArgument,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
    attempt: AttemptOption = None,
    full_traceback: FullTracebackOption = False,
) -> None:
    """Show one step: state, readiness, attempts, result, and its last error in full.

    The error shows the exception, where it was raised and its traceback (the handler's frames
    with their source as it was when it failed); --attempt N shows an earlier attempt's error.

    Example: tasker-ctl task step 3f9c2a1e process_payment
    """
    from tasker_ctl.cli.backend import tasks
    from tasker_ctl.errors import NotFoundError

    detail = tasks.task_step_detail(db_path(db), task, step_name)
    chosen = detail.failed_attempt(attempt)
    if attempt is not None and chosen is None:
        made = sorted({a.attempt for a in detail.attempts})
        raise NotFoundError(
            f"step '{detail.step.name}' has no recorded attempt {attempt}"
            + (f" (attempts recorded: {', '.join(map(str, made))})" if made else ""),
            hint=f"see them with `tasker-ctl task step {detail.step.step_uuid[:8]}`",
        )
    if output_format is OutputFormat.JSON:
        document = detail.to_json()
        if attempt is not None and chosen is not None:
            document["shown_attempt"] = chosen.to_json()
        print_json(document)
        return
    _print_step_details(detail.step)
    if chosen is not None:
        _print_attempt_error(detail, chosen, full_traceback)


def _print_step_details(view: StepView) -> None:
    print("Step Details")
    _label("UUID", view.step_uuid)
    _label("Name", view.name)
    _label("Type", view.step_type)
    _label("Handler", view.handler_callable)
    _label("State", view.state)
    _label("Dependencies", ", ".join(view.dependencies) or "none")
    _label("Dependencies satisfied", _yes_no(view.dependencies_satisfied))
    _label("Ready for execution", _yes_no(view.ready))
    _label("Retry eligible", _yes_no(view.retry_eligible))
    _label("Attempts", f"{view.attempts}/{view.max_attempts}")
    _label("Started", view.started_at)
    _label("Completed", view.completed_at)
    failure = None
    if view.error is not None:
        failure = _error_line(view.error)
        kind = view.error.get("error_type")
        failure += f" ({kind})" if kind else ""
    _label("Last failure", failure)
    _label("Next retry", view.next_retry_at)
    if view.result is not None:
        _label("Result", json.dumps(view.result, ensure_ascii=False))


def _error_line(error: dict[str, object]) -> str:
    """``KeyError: 'x'`` for an exception, else the message."""
    metadata = error.get("metadata")
    exception_type = metadata.get("exception_type") if isinstance(metadata, dict) else None
    message = str(error.get("message") or "")
    return f"{exception_type}: {message}" if exception_type else message


def _print_attempt_error(detail: StepDetail, chosen: AttemptView, full: bool) -> None:
    """The error of one attempt in full: exception, codes, where raised, the traceback."""
    error = chosen.error or {}
    if chosen.success:
        print(f"Attempt {chosen.attempt} succeeded ({chosen.created_at})")
        return
    from tasker_ctl.handlers.frames import display_path

    metadata = error.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    print(f"Error of attempt {chosen.attempt}/{detail.step.max_attempts} ({chosen.created_at})")
    _label("Exception", _error_line(error))
    _label("Error type", error.get("error_type"))
    _label("Error code", error.get("error_code"))
    _label("Retryable", _yes_no(bool(error.get("retryable"))))
    where = metadata.get("raised_at")
    if isinstance(where, dict) and where.get("file"):
        _label("Raised at", f"{display_path(str(where['file']))}:{where.get('line')}")
    earlier = [a.attempt for a in detail.attempts if not a.success and a is not chosen]
    if earlier:
        numbers = ", ".join(map(str, earlier))
        _label("Other failed attempts", f"{numbers} (--attempt N shows one)")
    frames = metadata.get("frames")
    if not isinstance(frames, list) or not frames:
        return
    from tasker_ctl.ui.terminal import make_console
    from tasker_ctl.ui.traceback_view import traceback_renderable

    sys.stdout.flush()
    out = make_console(no_color=not console.color_enabled(sys.stdout))
    out.print(
        traceback_renderable(
            str(metadata.get("exception_type") or "Error"),
            str(error.get("message") or ""),
            frames,
            full=full,
            width=out.width,
        )
    )


LOGS_POLL_SECONDS = 0.25


def logs(
    task: TaskArgument,
    step_name: Annotated[
        str | None,
        typer.Argument(
            help="Only this step (name or UUID).",
            show_default=False,
            autocompletion=complete_step_name,
        ),
    ] = None,
    attempt: Annotated[
        int | None, typer.Option("--attempt", help="Only this attempt.", min=1)
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-F", help="Print new lines until the task comes to rest."),
    ] = False,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Show what a task's handlers printed and logged, under each step and attempt.

    With --follow, lines are printed as they are written (also while another process runs the
    task), each prefixed with its step, until the task comes to rest.

    Example: tasker-ctl task logs 3f9c2a1e --follow
    """
    from tasker_ctl import tasks

    path = db_path(db)
    found = tasks.task_logs(path, task, step_name, attempt=attempt)
    if not follow:
        if output_format is OutputFormat.JSON:
            print_json([line.to_json() for line in found.lines])
        else:
            _print_log_groups(found)
        return
    collector.resume()  # following lasts as long as the run
    last_id = 0
    while True:
        last_id = max(last_id, found.last_id)
        for line in found.lines:
            if output_format is OutputFormat.JSON:
                print(json.dumps(line.to_json(), ensure_ascii=False))
            else:
                print(f"{line.step_name} | {line.text}")
        sys.stdout.flush()
        if not found.running:
            return
        time.sleep(LOGS_POLL_SECONDS)
        found = tasks.task_logs(path, found.task_uuid, step_name, attempt=attempt, after_id=last_id)


def _print_log_groups(found: TaskLogs) -> None:
    """Every line under a ``── step · attempt n ──`` heading, steps in the task's order."""
    from tasker_ctl.ui.terminal import console_width

    if not found.lines:
        print(f"No output recorded for task {found.task_uuid} (status: {found.task_status})")
        return
    width = console_width() or 80
    order = {name: index for index, name in enumerate(found.step_order)}
    groups: dict[tuple[str, int], list[str]] = {}
    for line in found.lines:
        groups.setdefault((line.step_name, line.attempt), []).append(line.text)
    keys = sorted(groups, key=lambda key: (order.get(key[0], len(order)), key[1]))
    for index, (name, number) in enumerate(keys):
        heading = f"── {name} · attempt {number} "
        print(("\n" if index else "") + heading + "─" * max(width - len(heading), 3))
        for text in groups[(name, number)]:
            print(text)


def audit(
    task: TaskArgument,
    step_name: Annotated[
        str | None,
        typer.Argument(
            help="Only this step (name or UUID).",
            show_default=False,
            autocompletion=complete_step_name,
        ),
    ] = None,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Show every recorded state transition of a task, or of one of its steps.

    Example: tasker-ctl task audit 3f9c2a1e process_payment
    """
    from tasker_ctl.cli.backend import tasks

    entries = tasks.task_audit(db_path(db), task, step_name)
    if output_format is OutputFormat.JSON:
        print_json([entry.to_json() for entry in entries])
        return
    from tasker_ctl.ui.task_tables import audit_table
    from tasker_ctl.ui.terminal import console_width

    sys.stdout.write(audit_table(entries, console_width() or 80))


# --- operator actions -------------------------------------------------------------------------


def _report(result: OperatorResult, output_format: OutputFormat, headline: str) -> None:
    if output_format is OutputFormat.JSON:
        print_json(result.to_json())
        return
    console.success(headline)
    for name, _step_uuid, state in result.steps:
        _label("Step", name)
        _label("New state", state)
    if result.reason is not None:
        _label("Reason", result.reason)
    if result.task_reopened:
        _label("Task", f"reopened ({result.task_status})")


def _step_names(result: OperatorResult) -> str:
    """The step (or steps) an operator action moved, by name."""
    return ", ".join(name for name, _uuid, _state in result.steps) or "-"


def cancel(
    task: TaskArgument,
    reason: Annotated[
        str | None, typer.Option("--reason", "-r", help="Why (kept in the audit trail).")
    ] = None,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Cancel a task and every step that has not finished.

    Example: tasker-ctl task cancel 3f9c2a1e -r 'ordered twice'
    """
    from tasker_ctl.cli.backend import tasks

    result = tasks.cancel_task(db_path(db), task, reason=reason)
    if output_format is OutputFormat.JSON:
        print_json(result.to_json())
        return
    console.success(f"Cancelled task {result.task_uuid}")


def reset_step(
    task: TaskArgument,
    step_name: StepArgument,
    *,
    reason: Annotated[
        str | None, typer.Option("--reason", "-r", help="Why (kept in the audit trail).")
    ] = None,
    reset_by: Annotated[str, typer.Option("--reset-by", "-b", help="Who.")] = "cli-operator",
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Reset a step in error to pending, with its attempts back to 0, so a run retries it.

    Example: tasker-ctl task reset-step 3f9c2a1e process_payment -r 'gateway is back'
    """
    from tasker_ctl.cli.backend import tasks

    result = tasks.reset_step(db_path(db), task, step_name, reason=reason, reset_by=reset_by)
    _report(result, output_format, f"Reset step {_step_names(result)} to pending")
    if output_format is OutputFormat.TEXT:
        _label("Reset by", reset_by)


def resolve_step(
    task: TaskArgument,
    step_name: StepArgument,
    *,
    reason: ReasonOption,
    resolved_by: Annotated[str, typer.Option("--resolved-by", "-b", help="Who.")] = "cli-operator",
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Mark a step resolved by hand; its dependents may then run.

    Example: tasker-ctl task resolve-step 3f9c2a1e process_payment -r 'paid by phone'
    """
    from tasker_ctl.cli.backend import tasks

    result = tasks.resolve_step(
        db_path(db), task, step_name, reason=reason, resolved_by=resolved_by
    )
    _report(result, output_format, f"Resolved step {_step_names(result)} by hand")


def complete_step(
    task: TaskArgument,
    step_name: StepArgument,
    *,
    result_json: Annotated[
        str, typer.Option("--result", help="The step's result: JSON, @FILE, or -.")
    ],
    reason: ReasonOption,
    metadata_json: Annotated[
        str | None, typer.Option("--metadata", help="Extra result metadata: JSON object.")
    ] = None,
    completed_by: Annotated[
        str, typer.Option("--completed-by", "-b", help="Who.")
    ] = "cli-operator",
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Complete a step by hand with the result its dependents will see.

    Example: tasker-ctl task complete-step 3f9c2a1e charge --result '{"paid": true}' -r 'by phone'
    """
    from tasker_ctl.cli.backend import tasks
    from tasker_ctl.cli.options import project_config, read_json_option
    from tasker_ctl.config import max_input_bytes
    from tasker_ctl.errors import InvalidDataError
    from tasker_ctl.tasks.inputs import read_json_argument

    config = project_config()
    limit = max_input_bytes(config)
    result_value = read_json_option(result_json, option="--result", max_bytes=limit)
    metadata = None
    if metadata_json is not None:
        metadata = read_json_argument(metadata_json, option="--metadata", max_bytes=limit)
        if not isinstance(metadata, dict):
            raise InvalidDataError("--metadata must be a JSON object")
    outcome = tasks.complete_step(
        db_path(db, config),
        task,
        step_name,
        result=result_value,
        reason=reason,
        completed_by=completed_by,
        metadata=metadata,
    )
    _report(outcome, output_format, f"Completed step {_step_names(outcome)} by hand")


def retry(
    task: TaskArgument,
    step_name: Annotated[
        str | None,
        typer.Argument(
            help="Only this step (default: every step in error).",
            show_default=False,
            autocompletion=complete_step_name,
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", "-r", help="Why (kept in the audit trail).")
    ] = None,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Reset every step in error (or one step) to pending so that the next run retries it.

    Example: tasker-ctl task retry 3f9c2a1e
    """
    from tasker_ctl import tasks

    result = tasks.retry_task(db_path(db), task, step_name, reason=reason)
    count = console.plural(len(result.steps), "step")
    _report(result, output_format, f"Reset {count} to pending for a retry")


class TaskDiagramFormat(StrEnum):
    """``task visualize`` output: the Mermaid graph, a markdown document, or JSON."""

    MERMAID = "mermaid"
    MARKDOWN = "markdown"
    JSON = "json"


def visualize(
    task: TaskArgument,
    db: DbOption = None,
    output_format: Annotated[
        TaskDiagramFormat, typer.Option("--format", "-f", help="mermaid, markdown or json.")
    ] = TaskDiagramFormat.MERMAID,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="A Tasker server's address: the markdown document links the task and steps.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    graph_only: Annotated[
        bool,
        typer.Option("--graph-only", help="The markdown document without its step details."),
    ] = False,
) -> None:
    """Draw a task as Mermaid: each step coloured by its state, untaken branches dashed.

    Example: tasker-ctl task visualize 3f9c2a1e -f markdown -o task.md
    """
    from tasker_ctl.cli.backend import tasks
    from tasker_ctl.template.models import TaskTemplate
    from tasker_ctl.ui.visualize import visualize_task

    view, snapshot = tasks.task_status_with_template(db_path(db), task)
    text = visualize_task(
        view,
        TaskTemplate.from_snapshot(snapshot),
        str(output_format),
        base_url=base_url.rstrip("/") if base_url else None,
        graph_only=graph_only,
    )
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    console.success(f"Wrote {output}")

"""``task delete`` and ``task prune``: remove tasks (and all recorded about them) from the store."""

from __future__ import annotations

from typing import Annotated

import typer

from tasker_ctl.cli import console
from tasker_ctl.cli.options import (
    DbOption,
    FormatOption,
    OutputFormat,
    TaskArgument,
    db_path,
    print_json,
)


def delete(
    task: TaskArgument,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Delete a task with its steps, audit trail, results, output and run lease.

    Refused (exit 75) while a live run holds the task: cancel it first.

    Example: tasker-ctl task delete 3f2a9c1e
    """
    from tasker_ctl.tasks.housekeeping import delete_task

    deleted = delete_task(db_path(db), task)
    if output_format is OutputFormat.JSON:
        print_json({"deleted": [deleted.to_json()]})
        return
    console.success(
        f"Deleted task {deleted.task_uuid} "
        f"({deleted.namespace}/{deleted.name} v{deleted.version}, {deleted.state})"
    )


def prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", help="Delete tasks created longer ago than this: 45m, 12h, 30d, 2w."
        ),
    ],
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="Only tasks in this state (repeatable; default: complete, error, cancelled, "
            "resolved_manually).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")
    ] = False,
    db: DbOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Delete old tasks, each with everything recorded about it (tasks a live run holds stay).

    Example: tasker-ctl task prune --older-than 30d --status complete
    """
    from tasker_ctl.tasks.housekeeping import parse_age, prune_tasks
    from tasker_ctl.ui.task_tables import short_time

    result = prune_tasks(db_path(db), parse_age(older_than), status or (), dry_run=dry_run)
    if output_format is OutputFormat.JSON:
        print_json(result.to_json())
        return
    for task_uuid in result.kept_running:
        console.warning(f"kept task {task_uuid}: a live run holds it")
    which = f"created before {short_time(result.cutoff)} ({', '.join(result.statuses)})"
    count = console.plural(len(result.deleted), "task")
    if not result.deleted:
        print(f"No tasks to prune: none {which}")
    elif dry_run:
        print(f"Would delete {count} {which}:")
        for task in result.deleted:
            print(f"  {task.task_uuid}  {task.namespace}/{task.name} v{task.version}  {task.state}")
    else:
        console.success(f"Deleted {count} {which}")

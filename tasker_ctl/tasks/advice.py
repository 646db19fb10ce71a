"""What to do next about a task, as the command to type (``task status``).

Tasker's ``recommended_action`` is an engine value (``handle_failures``, ``finalize_task``…);
JSON keeps it as the server returns it, and people get the command it stands for. A cancelled or
finished task needs nothing, whatever the step counts say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_ctl.states import TASK_FINISHED, TaskState

if TYPE_CHECKING:
    from tasker_ctl.tasks.views import TaskView

PROGRAM = "tasker-ctl"


def recommended_command(view: TaskView) -> str | None:
    """The command that carries the task on, or None when nothing is left to do."""
    if view.status in TASK_FINISHED:
        return None
    task = f"{PROGRAM} task"
    if view.recommended_action == "handle_failures":
        return f"{task} run {view.task_uuid} --retry-failed"
    if view.recommended_action == "wait_for_completion":
        return f"{task} status {view.task_uuid} --watch"
    # execute_ready_steps, finalize_task, wait_for_dependencies (a retry not yet due): a run
    # starts the ready steps, records the end, or waits for the retry.
    return f"{task} run {view.task_uuid}"


def recommended_action_text(view: TaskView) -> str:
    """``task status`` text: the command and why, or why nothing is needed."""
    command = recommended_command(view)
    if command is None:
        return f"none (the task is {view.status})"
    why = {
        "handle_failures": "re-run the failed steps once their cause is fixed",
        "wait_for_completion": "steps are running; follow them",
        "execute_ready_steps": "run the ready steps",
        "finalize_task": "every step is done; a run records the task complete",
        "wait_for_dependencies": "run it; it waits for retries that are not yet due",
    }.get(view.recommended_action, view.recommended_action)
    return f"{command}  ({why})"


def health_text(view: TaskView) -> tuple[str, str]:
    """``(health, execution)`` for people: a cancelled task is neither healthy nor waiting."""
    if view.status == TaskState.CANCELLED:
        return "cancelled", "cancelled"
    return view.health_status, view.execution_status


__all__ = ["health_text", "recommended_action_text", "recommended_command"]

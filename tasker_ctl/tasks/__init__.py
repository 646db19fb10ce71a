"""The task operations the CLI calls: create, read, operate on and run tasks in the local store.

``views`` (the frozen results), ``create`` (input checks, the task stored), ``reads`` (list,
status, steps, step, audit), ``actions`` (operator actions), ``run`` (the engine on a stored task),
``inputs`` (JSON arguments and ``input_schema`` checks). Names are resolved lazily on first use
(``tasks.create_task`` imports ``tasks.create`` only then), so a reading command never imports
the template model or the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_ctl.lazy_names import names_loaded_on_use

if TYPE_CHECKING:  # the names as the type checker sees them; at run time __getattr__ loads them
    from tasker_ctl.tasks.actions import (
        cancel_task,
        complete_step,
        reset_step,
        resolve_step,
        retry_task,
    )
    from tasker_ctl.tasks.create import CreateRequest, create_task, new_steps_for
    from tasker_ctl.tasks.reads import (
        build_task_view,
        final_results,
        list_tasks,
        no_store,
        short_task_reference,
        step_index,
        task_audit,
        task_logs,
        task_status,
        task_status_with_template,
        task_step,
        task_step_detail,
        task_steps,
        task_template_snapshot,
    )
    from tasker_ctl.tasks.run import run_task
    from tasker_ctl.tasks.views import (
        DEFAULT_OPERATOR,
        SOURCE_SYSTEM,
        AuditEntry,
        CreatedTask,
        OperatorResult,
        StepView,
        TaskList,
        TaskListItem,
        TaskView,
    )

_OWNERS = {
    "AuditEntry": "views",
    "CreateRequest": "create",
    "CreatedTask": "views",
    "DEFAULT_OPERATOR": "views",
    "OperatorResult": "views",
    "SOURCE_SYSTEM": "views",
    "StepView": "views",
    "TaskList": "views",
    "TaskListItem": "views",
    "TaskView": "views",
    "build_task_view": "reads",
    "cancel_task": "actions",
    "complete_step": "actions",
    "create_task": "create",
    "final_results": "reads",
    "list_tasks": "reads",
    "new_steps_for": "create",
    "no_store": "reads",
    "reset_step": "actions",
    "resolve_step": "actions",
    "retry_task": "actions",
    "run_task": "run",
    "step_index": "reads",
    "task_audit": "reads",
    "task_logs": "reads",
    "short_task_reference": "reads",
    "task_status": "reads",
    "task_status_with_template": "reads",
    "task_step": "reads",
    "task_step_detail": "reads",
    "task_steps": "reads",
    "task_template_snapshot": "reads",
}


if not TYPE_CHECKING:  # the type checker sees the imports above, so a wrong name is an error
    __getattr__ = names_loaded_on_use(
        __name__, {name: f"{__name__}.{owner}" for name, owner in _OWNERS.items()}
    )


__all__ = [
    "DEFAULT_OPERATOR",
    "SOURCE_SYSTEM",
    "AuditEntry",
    "CreateRequest",
    "CreatedTask",
    "OperatorResult",
    "StepView",
    "TaskList",
    "TaskListItem",
    "TaskView",
    "build_task_view",
    "cancel_task",
    "complete_step",
    "create_task",
    "final_results",
    "list_tasks",
    "new_steps_for",
    "no_store",
    "reset_step",
    "resolve_step",
    "retry_task",
    "run_task",
    "short_task_reference",
    "step_index",
    "task_audit",
    "task_logs",
    "task_status",
    "task_status_with_template",
    "task_step",
    "task_step_detail",
    "task_steps",
    "task_template_snapshot",
]

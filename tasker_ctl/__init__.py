"""tasker-ctl: Tasker workflows on one machine, as a library and as a command line.

The library API, for running workflows from your own code or tests::

    from pathlib import Path
    import tasker_ctl

    db = Path(".tasker/tasker.db")
    reports = tasker_ctl.validate_paths([Path("templates")])         # findings as data
    created = tasker_ctl.create_task(tasker_ctl.CreateRequest(
        namespace="ecommerce", name="ecommerce_order_processing", input={...},
        search_path=[Path("templates")], db_path=db))
    result = tasker_ctl.run_task(db, created.task_uuid, observers=[print])  # events, as data
    view = tasker_ctl.task_status(db, created.task_uuid)

Every name is resolved on first use (a module-level ``__getattr__``), so ``import tasker_ctl``
costs nothing and each command imports only what it uses. Errors meant for people are
:class:`TaskerCtlError` with an ``exit_code`` and a ``hint``. The command line (``tasker_ctl.cli``,
typer) and the terminal renderings (``tasker_ctl.ui``, rich) sit on top of this API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasker_ctl.lazy_names import names_loaded_on_use

__version__ = "0.1.0"

if TYPE_CHECKING:  # the names as the type checker sees them; at run time __getattr__ loads them
    from tasker_ctl.engine.events import (
        Event,
        Observer,
        RunFinished,
        RunStarted,
        StepsCreated,
        StepTransitioned,
        TaskTransitioned,
    )
    from tasker_ctl.engine.scheduler import RunOptions, RunResult
    from tasker_ctl.errors import TaskerCtlError
    from tasker_ctl.states import StepState, TaskState
    from tasker_ctl.tasks.actions import (
        cancel_task,
        complete_step,
        reset_step,
        resolve_step,
        retry_task,
    )
    from tasker_ctl.tasks.create import CreateRequest, create_task
    from tasker_ctl.tasks.reads import list_tasks, task_audit, task_status, task_step, task_steps
    from tasker_ctl.tasks.run import run_task
    from tasker_ctl.tasks.views import (
        AuditEntry,
        CreatedTask,
        OperatorResult,
        StepView,
        TaskList,
        TaskView,
    )
    from tasker_ctl.template.findings import FileReport, Finding, Severity
    from tasker_ctl.template.validation import validate_file, validate_paths

_OWNERS = {
    # validate templates: findings as data
    "validate_file": "tasker_ctl.template.validation",
    "validate_paths": "tasker_ctl.template.validation",
    "FileReport": "tasker_ctl.template.findings",
    "Finding": "tasker_ctl.template.findings",
    "Severity": "tasker_ctl.template.findings",
    # create a task
    "CreateRequest": "tasker_ctl.tasks.create",
    "create_task": "tasker_ctl.tasks.create",
    "CreatedTask": "tasker_ctl.tasks.views",
    # run it, with observers
    "run_task": "tasker_ctl.tasks.run",
    "RunOptions": "tasker_ctl.engine.scheduler",
    "RunResult": "tasker_ctl.engine.scheduler",
    "Observer": "tasker_ctl.engine.events",
    "Event": "tasker_ctl.engine.events",
    "RunStarted": "tasker_ctl.engine.events",
    "StepTransitioned": "tasker_ctl.engine.events",
    "StepsCreated": "tasker_ctl.engine.events",
    "TaskTransitioned": "tasker_ctl.engine.events",
    "RunFinished": "tasker_ctl.engine.events",
    # read its state
    "list_tasks": "tasker_ctl.tasks.reads",
    "task_status": "tasker_ctl.tasks.reads",
    "task_steps": "tasker_ctl.tasks.reads",
    "task_step": "tasker_ctl.tasks.reads",
    "task_audit": "tasker_ctl.tasks.reads",
    "TaskList": "tasker_ctl.tasks.views",
    "TaskView": "tasker_ctl.tasks.views",
    "StepView": "tasker_ctl.tasks.views",
    "AuditEntry": "tasker_ctl.tasks.views",
    "TaskState": "tasker_ctl.states",
    "StepState": "tasker_ctl.states",
    # operator actions
    "cancel_task": "tasker_ctl.tasks.actions",
    "reset_step": "tasker_ctl.tasks.actions",
    "resolve_step": "tasker_ctl.tasks.actions",
    "complete_step": "tasker_ctl.tasks.actions",
    "retry_task": "tasker_ctl.tasks.actions",
    "OperatorResult": "tasker_ctl.tasks.views",
    # errors
    "TaskerCtlError": "tasker_ctl.errors",
}


if not TYPE_CHECKING:  # the type checker sees the imports above, so a wrong name is an error
    __getattr__ = names_loaded_on_use(__name__, _OWNERS)


__all__ = [
    "AuditEntry",
    "CreateRequest",
    "CreatedTask",
    "Event",
    "FileReport",
    "Finding",
    "Observer",
    "OperatorResult",
    "RunFinished",
    "RunOptions",
    "RunResult",
    "RunStarted",
    "Severity",
    "StepState",
    "StepTransitioned",
    "StepView",
    "StepsCreated",
    "TaskList",
    "TaskState",
    "TaskTransitioned",
    "TaskView",
    "TaskerCtlError",
    "__version__",
    "cancel_task",
    "complete_step",
    "create_task",
    "list_tasks",
    "reset_step",
    "resolve_step",
    "retry_task",
    "run_task",
    "task_audit",
    "task_status",
    "task_step",
    "task_steps",
    "validate_file",
    "validate_paths",
]

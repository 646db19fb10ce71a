"""The seam: which implementation of the task operations a command gets.

Without a profile (no ``--profile``, no ``TASKER_CLIENT_PROFILE``) it is the local one, the
:mod:`tasker_ctl.tasks` package itself, and nothing of this package beyond this module is
imported (httpx never is). With a profile it is a :class:`~tasker_ctl.remote.tasks.RemoteTasks`
on that profile's server. Both answer the calls of :class:`TaskOperations` with the same views.
Commands that need the local engine call :func:`require_local` first.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tasker_ctl.errors import UsageError

if TYPE_CHECKING:
    from tasker_ctl.store.records import JsonObject
    from tasker_ctl.tasks.create import CreateRequest
    from tasker_ctl.tasks.views import (
        AuditEntry,
        CreatedTask,
        OperatorResult,
        StepDetail,
        StepView,
        TaskList,
        TaskView,
    )


class TaskOperations(Protocol):
    """The task operations every implementation offers (the local ``tasks`` package does)."""

    def create_task(self, request: CreateRequest) -> CreatedTask: ...
    def list_tasks(
        self,
        db_path: Path,
        *,
        namespace: str | None = ...,
        status: str | None = ...,
        limit: int = ...,
        page: int = ...,
    ) -> TaskList: ...
    def task_status(
        self, db_path: Path, task_reference: str, *, now: datetime | None = ...
    ) -> TaskView: ...
    def task_status_with_template(
        self, db_path: Path, task_reference: str, *, now: datetime | None = ...
    ) -> tuple[TaskView, JsonObject]: ...
    def task_template_snapshot(self, db_path: Path, task_reference: str) -> JsonObject: ...
    def task_steps(self, db_path: Path, task_reference: str) -> TaskView: ...
    def task_step(self, db_path: Path, task_reference: str, step_reference: str) -> StepView: ...
    def task_step_detail(
        self, db_path: Path, task_reference: str, step_reference: str
    ) -> StepDetail: ...
    def task_audit(
        self, db_path: Path, task_reference: str, step_reference: str | None = ...
    ) -> list[AuditEntry]: ...
    def cancel_task(
        self,
        db_path: Path,
        task_reference: str,
        *,
        reason: str | None = ...,
        cancelled_by: str = ...,
    ) -> OperatorResult: ...
    def reset_step(
        self,
        db_path: Path,
        task_reference: str,
        step_reference: str,
        *,
        reason: str | None = ...,
        reset_by: str = ...,
    ) -> OperatorResult: ...
    def resolve_step(
        self,
        db_path: Path,
        task_reference: str,
        step_reference: str,
        *,
        reason: str,
        resolved_by: str = ...,
    ) -> OperatorResult: ...
    def complete_step(
        self,
        db_path: Path,
        task_reference: str,
        step_reference: str,
        *,
        result: Any,
        reason: str,
        completed_by: str = ...,
        metadata: JsonObject | None = ...,
    ) -> OperatorResult: ...


# What to use instead of each command that needs the local engine, on a server.
LOCAL_ONLY = {
    "task run": "the server runs a task once it is created: follow it with "
    "`task status TASK --watch`",
    "task create --run": "leave out --run (the server runs the task) and follow it with "
    "`task status TASK --watch`",
    "task logs": "the server keeps no handler logs for tasker-ctl: see results and failures with "
    "`task step TASK STEP` and `task audit TASK STEP`",
    "task retry": "reset each failed step with `task reset-step TASK STEP`",
}


def require_local(command: str, profile_name: str | None) -> None:
    """Refuse ``command`` (one of :data:`LOCAL_ONLY`) when a profile selects a server."""
    if profile_name is None:
        return
    raise UsageError(
        f"`{command}` needs the local engine and store; it does not work with a server "
        f"profile ('{profile_name}')",
        hint=LOCAL_ONLY.get(command, "run it without --profile / TASKER_CLIENT_PROFILE"),
    )


def task_operations(profile_name: str) -> TaskOperations:
    """The task operations of profile ``profile_name``'s server; templates found on the project's
    template search path check input and give step shapes."""
    from tasker_ctl.config import load_project_config, template_search_path
    from tasker_ctl.remote.client import ServerClient
    from tasker_ctl.remote.profiles import load_profile
    from tasker_ctl.remote.tasks import RemoteTasks

    profile = load_profile(profile_name)
    search_path = template_search_path([], load_project_config())
    return RemoteTasks(ServerClient(profile), search_path=search_path)

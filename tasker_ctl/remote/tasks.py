"""The task operations on a Tasker server: the same calls and views as :mod:`tasker_ctl.tasks`.

:class:`RemoteTasks` has the methods the CLI calls on the local ``tasks`` package, with the same
signatures (the store path is accepted and ignored) and the same views, so a command renders a
server's task exactly as a local one. What the server does not send is filled from the task's
template — the server's copy when its ``configuration`` holds the steps, else the local file of
the same namespace/name/version — or left empty: step types, handlers and the dependency edges
come only from a template.

The server looks tasks up by full UUID only, so a prefix is refused with a message that says so.
"""

from __future__ import annotations

import getpass
import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasker_ctl.errors import InvalidDataError, NotFoundError, TaskerCtlError, UsageError
from tasker_ctl.remote.client import ServerClient
from tasker_ctl.states import REOPENABLE_TASK_STATES, STEP_MACHINE, STEP_TERMINAL
from tasker_ctl.tasks.views import (
    DEFAULT_OPERATOR,
    SOURCE_SYSTEM,
    AuditEntry,
    CreatedTask,
    OperatorResult,
    StepDetail,
    StepView,
    TaskList,
    TaskListItem,
    TaskView,
    require_page,
)

if TYPE_CHECKING:
    from tasker_ctl.store.records import JsonObject
    from tasker_ctl.tasks.create import CreateRequest
    from tasker_ctl.template.models import TaskTemplate

DEFAULT_REASON = "created with tasker-ctl"
DEFAULT_RESET_REASON = "reset with tasker-ctl"
MAX_PER_PAGE = 100  # the contract's maximum for GET /v1/tasks


@dataclass(frozen=True)
class StepShape:
    """What a template says of one step (the server does not send it with the task)."""

    step_type: str
    handler: str | None
    dependencies: tuple[str, ...]
    retryable: bool
    timeout_seconds: int | None


def default_initiator() -> str:
    """The local user's name, the initiator of a task created without ``--initiator``."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "tasker-ctl"


class RemoteTasks:
    """The task operations of one Tasker server (see the module docstring)."""

    def __init__(self, client: ServerClient, *, search_path: Sequence[Path] = ()) -> None:
        self.client = client
        self.search_path = list(search_path)
        self._shapes: dict[tuple[str, str, str], dict[str, StepShape] | None] = {}
        self._templates: dict[tuple[str, str, str], TaskTemplate | None] = {}

    # --- reading ------------------------------------------------------------------------------

    def list_tasks(
        self,
        db_path: Path | None = None,
        *,
        namespace: str | None = None,
        status: str | None = None,
        limit: int = 20,
        page: int = 1,
        initiator: str | None = None,
        source_system: str | None = None,
    ) -> TaskList:
        """The server's tasks, ``limit`` of them from ``page`` (pages of up to 100 are fetched)."""
        require_page(limit, page)
        per_page = min(limit, MAX_PER_PAGE)
        first_item = (page - 1) * limit
        items: list[TaskListItem] = []
        total = 0
        server_page = first_item // per_page + 1
        skip = first_item % per_page
        while len(items) < limit:
            answer = self.client.call(
                "list_tasks",
                query={
                    "page": server_page,
                    "per_page": per_page,
                    "namespace": namespace,
                    "status": status,
                    "initiator": initiator,
                    "source_system": source_system,
                },
            )
            total = int(answer["pagination"]["total_count"])
            batch = [_list_item(task) for task in answer["tasks"]][skip:]
            items.extend(batch[: limit - len(items)])
            skip = 0
            if not answer["pagination"]["has_next"] or not answer["tasks"]:
                break
            server_page += 1
        return TaskList(items=tuple(items), total=total, limit=limit, store_exists=True, page=page)

    def task_status(
        self, db_path: Path | None, task_reference: str, *, now: datetime | None = None
    ) -> TaskView:
        """The task with every step: ``GET /v1/tasks/{uuid}`` and its ``workflow_steps``."""
        return self._task_view(*self._task_and_steps(task_reference))

    def _task_and_steps(self, task_reference: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        task_uuid = self._full_uuid(task_reference, "task")
        task = self._get_task(task_uuid)
        steps = self.client.call(
            "list_task_steps", path={"uuid": task_uuid}, not_found=self._no_task(task_uuid)
        )
        return task, steps

    def _step_of(self, task_reference: str, step_reference: str) -> tuple[TaskView, StepView]:
        """The task and one of its steps, by name or UUID, without the steps' shapes (which
        cost the template: only the step's identity is needed)."""
        from tasker_ctl.tasks.reads import step_index

        view = self._task_view(*self._task_and_steps(task_reference), shapes={})
        return view, view.steps[step_index(view, step_reference)]

    def task_steps(self, db_path: Path | None, task_reference: str) -> TaskView:
        """``task steps``: the same view as ``task status``."""
        return self.task_status(db_path, task_reference)

    def task_step(self, db_path: Path | None, task_reference: str, step_reference: str) -> StepView:
        """One step of a task, by name or UUID."""
        from tasker_ctl.tasks.reads import step_index

        view = self.task_status(db_path, task_reference)
        return view.steps[step_index(view, step_reference)]

    def task_step_detail(
        self, db_path: Path | None, task_reference: str, step_reference: str
    ) -> StepDetail:
        """The step with its last error; the server keeps no per-attempt history for us."""
        return StepDetail(self.task_step(db_path, task_reference, step_reference), ())

    def task_template_snapshot(self, db_path: Path | None, task_reference: str) -> JsonObject:
        """A template snapshot for drawing the task: the template found, else one from its steps."""
        view = self.task_status(db_path, task_reference)
        return self._snapshot(view)

    def task_status_with_template(
        self, db_path: Path | None, task_reference: str, *, now: datetime | None = None
    ) -> tuple[TaskView, JsonObject]:
        """The task view and a template snapshot (``task visualize``)."""
        view = self.task_status(db_path, task_reference, now=now)
        return view, self._snapshot(view)

    def task_audit(
        self, db_path: Path | None, task_reference: str, step_reference: str | None = None
    ) -> list[AuditEntry]:
        """A step's audit trail, oldest first (the server keeps one per step)."""
        task_uuid = self._full_uuid(task_reference, "task")
        if step_reference is None:
            raise UsageError(
                "on a Tasker server, `task audit` needs a STEP: the server keeps an audit "
                "trail per step",
                hint=f"list the steps with `tasker-ctl task steps {task_uuid}`",
            )
        _, step = self._step_of(task_uuid, step_reference)
        records = self.client.call(
            "get_step_audit",
            path={"uuid": task_uuid, "step_uuid": step.step_uuid},
            not_found=self._no_step(task_uuid, step_reference),
        )
        ordered = sorted(records, key=lambda record: str(record["recorded_at"]))
        return [_audit_entry(number, record) for number, record in enumerate(ordered, 1)]

    # --- operator actions ---------------------------------------------------------------------

    def cancel_task(
        self,
        db_path: Path | None,
        task_reference: str,
        *,
        reason: str | None = None,
        cancelled_by: str = DEFAULT_OPERATOR,
    ) -> OperatorResult:
        """``DELETE /v1/tasks/{uuid}`` (the server's cancel takes no reason; it is not sent)."""
        task_uuid = self._full_uuid(task_reference, "task")
        before = self._get_task(task_uuid)
        unfinished = {
            step["workflow_step_uuid"]
            for step in before["steps"]
            if step["current_state"] not in STEP_TERMINAL
        }
        after = self.client.call(
            "cancel_task", path={"uuid": task_uuid}, not_found=self._no_task(task_uuid)
        )
        return OperatorResult(
            action="cancel",
            task_uuid=task_uuid,
            task_status=after["status"],
            steps=tuple(
                (step["name"], step["workflow_step_uuid"], step["current_state"])
                for step in after["steps"]
                if step["workflow_step_uuid"] in unfinished
            ),
            reason=reason,
            actor=cancelled_by,
        )

    def reset_step(
        self,
        db_path: Path | None,
        task_reference: str,
        step_reference: str,
        *,
        reason: str | None = None,
        reset_by: str = DEFAULT_OPERATOR,
    ) -> OperatorResult:
        """``PATCH …/workflow_steps/{step}`` with ``reset_for_retry``."""
        action = {
            "action_type": "reset_for_retry",
            "reason": reason or DEFAULT_RESET_REASON,
            "reset_by": reset_by,
        }
        return self._step_action(task_reference, step_reference, "reset_step", action, reason)

    def resolve_step(
        self,
        db_path: Path | None,
        task_reference: str,
        step_reference: str,
        *,
        reason: str,
        resolved_by: str = DEFAULT_OPERATOR,
    ) -> OperatorResult:
        """``PATCH …/workflow_steps/{step}`` with ``resolve_manually``."""
        action = {"action_type": "resolve_manually", "reason": reason, "resolved_by": resolved_by}
        return self._step_action(task_reference, step_reference, "resolve_step", action, reason)

    def complete_step(
        self,
        db_path: Path | None,
        task_reference: str,
        step_reference: str,
        *,
        result: Any,
        reason: str,
        completed_by: str = DEFAULT_OPERATOR,
        metadata: JsonObject | None = None,
    ) -> OperatorResult:
        """``PATCH …/workflow_steps/{step}`` with ``complete_manually`` and the result."""
        completion: dict[str, Any] = {"result": result}
        if metadata is not None:
            completion["metadata"] = metadata
        action = {
            "action_type": "complete_manually",
            "completion_data": completion,
            "reason": reason,
            "completed_by": completed_by,
        }
        return self._step_action(task_reference, step_reference, "complete_step", action, reason)

    def _step_action(
        self,
        task_reference: str,
        step_reference: str,
        name: str,
        action: dict[str, Any],
        reason: str | None,
    ) -> OperatorResult:
        before, step = self._step_of(task_reference, step_reference)
        answer = self.client.call(
            "resolve_step_manually",
            path={"uuid": before.task_uuid, "step_uuid": step.step_uuid},
            body=action,
            not_found=self._no_step(before.task_uuid, step_reference),
        )
        after = self._get_task(before.task_uuid)
        actor = next(str(value) for key, value in action.items() if key.endswith("_by"))
        return OperatorResult(
            action=name,
            task_uuid=before.task_uuid,
            task_status=after["status"],
            steps=((answer["name"], answer["step_uuid"], answer["current_state"]),),
            reason=reason,
            actor=actor,
            task_reopened=before.status in REOPENABLE_TASK_STATES
            and after["status"] not in REOPENABLE_TASK_STATES,
        )

    # --- creating -----------------------------------------------------------------------------

    def create_task(
        self,
        request: CreateRequest,
        *,
        source_system: str = SOURCE_SYSTEM,
        requested_at: datetime | None = None,
    ) -> CreatedTask:
        """``POST /v1/tasks``. The input is checked against the local template's
        ``input_schema`` first when that template is found locally; without ``--version`` the
        local template's version is used, else the server's highest registered one.

        Defaults for what the API requires: initiator the local user, ``source_system``
        ``tasker-ctl``, reason ``created with tasker-ctl``, no tags, now, a new correlation id;
        the request's priority (5 unless given, as upstream's ``task create``), its tags and,
        when given, its idempotency key.
        """
        if request.environment is not None and not request.environment_optional:
            raise UsageError(
                "--env applies a template's environment overrides to local tasks only; "
                "a Tasker server applies its own configuration",
                hint="leave out --env with --profile",
            )
        if not isinstance(request.input, dict):
            raise InvalidDataError(
                "the task input must be a JSON object",
                hint="wrap the values in an object, e.g. --input '{\"order_id\": 42}'",
            )
        version = request.version
        local = self._local_template(request.namespace, request.name, version)
        if local is not None:
            template, path = local
            version = template.version
            if request.validate_input and template.input_schema is not None:
                from tasker_ctl.tasks.inputs import require_valid_input

                label = f"{template.namespace_name}/{template.name} v{template.version}"
                require_valid_input(
                    template.input_schema,
                    request.input,
                    what=f"{label} ({path})",
                    given=request.input_given,
                )
        if version is None:
            version = self._highest_server_version(request.namespace, request.name)
        from tasker_ctl.tasks.create import new_correlation_id

        body: dict[str, Any] = {
            "name": request.name,
            "namespace": request.namespace,
            "version": version,
            "context": request.input,
            "initiator": request.initiator or default_initiator(),
            "source_system": source_system,
            "reason": request.reason or DEFAULT_REASON,
            "tags": list(request.tags),
            "requested_at": (requested_at or datetime.now(UTC)).isoformat(),
            "correlation_id": new_correlation_id(request.correlation_id),
            "priority": request.priority,
        }
        if request.idempotency_key is not None:
            body["idempotency_key"] = request.idempotency_key
        task = self.client.call(
            "create_task",
            body=body,
            not_found=NotFoundError(
                f"{self.client.label} has no template {request.namespace}/{request.name} "
                f"v{version}",
                hint="see the server's templates with `tasker-ctl task templates`",
            ),
        )
        base = self.client.profile.base_url
        return CreatedTask(
            task_uuid=task["task_uuid"],
            status=task["status"],
            name=task["name"],
            namespace=task["namespace"],
            version=task["version"],
            created_at=task["created_at"],
            template_path=f"{base}/v1/templates/{task['namespace']}/{task['name']}/{task['version']}",
            steps=tuple((step["name"], step["workflow_step_uuid"]) for step in task["steps"]),
        )

    def _highest_server_version(self, namespace: str, name: str) -> str:
        from tasker_ctl.template.lookup import version_key

        listing = self.client.call("list_templates", query={"namespace": namespace})
        versions = [
            t["version"]
            for t in listing["templates"]
            if t["namespace"] == namespace and t["name"] == name
        ]
        if not versions:
            raise NotFoundError(
                f"no template {namespace}/{name} locally or on {self.client.label}",
                hint="see the server's templates with `tasker-ctl task templates`, "
                "or give --version",
            )
        return str(max(versions, key=version_key))

    # --- helpers ------------------------------------------------------------------------------

    def _full_uuid(self, reference: str, what: str) -> str:
        try:
            return str(uuid_module.UUID(reference.strip()))
        except ValueError:
            raise UsageError(
                f"'{reference}' is not a full {what} UUID: a Tasker server looks {what}s up by "
                "full UUID only (prefixes work for local tasks)",
                hint=f"find the full UUID with `tasker-ctl --profile {self.client.profile.name} "
                "task list`",
            ) from None

    def _no_task(self, task_uuid: str) -> NotFoundError:
        return NotFoundError(
            f"no task {task_uuid} on {self.client.label}",
            hint=f"list its tasks with `tasker-ctl --profile {self.client.profile.name} task list`",
        )

    def _no_step(self, task_uuid: str, step_reference: str) -> NotFoundError:
        return NotFoundError(
            f"task {task_uuid} has no step '{step_reference}' on {self.client.label}",
            hint=f"list its steps with `tasker-ctl --profile {self.client.profile.name} "
            f"task steps {task_uuid}`",
        )

    def _get_task(self, task_uuid: str) -> dict[str, Any]:
        task: dict[str, Any] = self.client.call(
            "get_task", path={"uuid": task_uuid}, not_found=self._no_task(task_uuid)
        )
        return task

    def _task_view(
        self,
        task: dict[str, Any],
        steps: list[dict[str, Any]],
        shapes: dict[str, StepShape] | None = None,
    ) -> TaskView:
        if shapes is None:
            shapes = self._step_shapes(task["namespace"], task["name"], task["version"]) or {}
        readiness = {step["workflow_step_uuid"]: step for step in task["steps"]}
        views = tuple(_step_view(step, readiness.get(step["step_uuid"]), shapes) for step in steps)
        present = {view.name for view in views}
        edges = tuple(
            (dependency, view.name)
            for view in views
            for dependency in view.dependencies
            if dependency in present
        )
        return TaskView(
            task_uuid=task["task_uuid"],
            name=task["name"],
            namespace=task["namespace"],
            version=task["version"],
            status=task["status"],
            execution_status=task["execution_status"],
            health_status=task["health_status"],
            recommended_action=task["recommended_action"],
            completed_steps=int(task["completed_steps"]),
            total_steps=int(task["total_steps"]),
            completion_percentage=float(task["completion_percentage"]),
            created_at=task["created_at"],
            updated_at=task["updated_at"],
            completed_at=task.get("completed_at"),
            correlation_id=task["correlation_id"],
            initiator=task["initiator"],
            reason=task["reason"],
            input=task["context"],
            steps=views,
            edges=edges,
        )

    def _step_shapes(self, namespace: str, name: str, version: str) -> dict[str, StepShape] | None:
        """Each step's type, handler and dependencies: from the server's template configuration
        when it holds them, else from the local template of that version, else None."""
        key = (namespace, name, version)
        if key not in self._shapes:
            template = self._server_template(namespace, name, version)
            if template is None:
                local = self._local_template(namespace, name, version)
                template = None if local is None else local[0]
            self._templates[key] = template
            self._shapes[key] = None if template is None else _shapes_of(template)
        return self._shapes[key]

    def _server_template(self, namespace: str, name: str, version: str) -> TaskTemplate | None:
        from tasker_ctl.remote.templates import template_from_configuration

        try:
            detail = self.client.call(
                "get_template", path={"namespace": namespace, "name": name, "version": version}
            )
        except TaskerCtlError:
            return None  # the template is a nicety for drawing; the task itself was read
        return template_from_configuration(detail.get("configuration"))

    def _local_template(
        self, namespace: str, name: str, version: str | None
    ) -> tuple[TaskTemplate, Path] | None:
        from tasker_ctl.template.lookup import find_template
        from tasker_ctl.template.validation import load_template

        try:
            location = find_template(self.search_path, namespace, name, version)
        except NotFoundError:
            return None
        return load_template(location.path), location.path

    def _snapshot(self, view: TaskView) -> JsonObject:
        self._step_shapes(view.namespace, view.name, view.version)
        template = self._templates.get((view.namespace, view.name, view.version))
        if template is not None:
            return template.to_snapshot()
        return {
            "name": view.name,
            "namespace_name": view.namespace,
            "version": view.version,
            "steps": [
                {
                    "name": step.name,
                    "handler": {"callable": step.handler_callable or "(on the server)"},
                    "dependencies": list(step.dependencies),
                }
                for step in view.steps
            ],
        }


def _shapes_of(template: TaskTemplate) -> dict[str, StepShape]:
    return {
        step.name: StepShape(
            step_type=str(step.step_type),
            handler=step.handler.callable,
            dependencies=tuple(step.dependencies),
            retryable=step.retry.retryable,
            timeout_seconds=step.timeout_seconds,
        )
        for step in template.steps
    }


def _list_item(task: dict[str, Any]) -> TaskListItem:
    return TaskListItem(
        task_uuid=task["task_uuid"],
        name=task["name"],
        namespace=task["namespace"],
        version=task["version"],
        status=task["status"],
        health_status=task["health_status"],
        completed_steps=int(task["completed_steps"]),
        total_steps=int(task["total_steps"]),
        completion_percentage=float(task["completion_percentage"]),
        created_at=task["created_at"],
        completed_at=task.get("completed_at"),
    )


def _step_view(
    step: dict[str, Any], readiness: dict[str, Any] | None, shapes: dict[str, StepShape]
) -> StepView:
    shape = shapes.get(step["name"])
    result, error = _result_and_error(step.get("results"))
    backoff = None if readiness is None else readiness.get("backoff_request_seconds")
    return StepView(
        name=step["name"],
        step_uuid=step["step_uuid"],
        step_type="standard" if shape is None else shape.step_type,
        state=step["current_state"],
        attempts=int(step["attempts"]),
        max_attempts=int(step["max_attempts"]),
        retryable=True if shape is None else shape.retryable,
        dependencies=() if shape is None else shape.dependencies,
        dependencies_satisfied=bool(step["dependencies_satisfied"]),
        ready=bool(step["ready_for_execution"]),
        retry_eligible=bool(step["retry_eligible"]),
        handler_callable=None if shape is None else shape.handler,
        timeout_seconds=None if shape is None else shape.timeout_seconds,
        next_retry_at=step.get("next_retry_at"),
        backoff_ms=None if backoff is None else int(backoff) * 1000,
        created_at=step["created_at"],
        started_at=step.get("last_attempted_at"),
        completed_at=step.get("completed_at"),
        result=result,
        error=error,
    )


def _result_and_error(results: Any) -> tuple[Any, JsonObject | None]:
    """A step's result and error from its ``results``: a step execution result
    (``{"success", "result", "error", …}``) is unwrapped; anything else is the result itself."""
    if isinstance(results, dict) and "success" in results and "result" in results:
        error = results.get("error")
        return results["result"], error if isinstance(error, dict) else None
    return results, None


def _audit_entry(number: int, record: dict[str, Any]) -> AuditEntry:
    from_state, to_state = record.get("from_state"), record["to_state"]
    events = [
        event
        for (source, event), target in STEP_MACHINE.transitions.items()
        if source == from_state and target == to_state
    ]
    metadata = {
        key: record.get(key)
        for key in ("worker_uuid", "correlation_id", "execution_time_ms", "result")
    }
    return AuditEntry(
        number=number,
        created_at=record["recorded_at"],
        task_uuid=record["task_uuid"],
        step_uuid=record["workflow_step_uuid"],
        step_name=record["step_name"],
        from_state=from_state,
        to_state=to_state,
        event=events[0] if len(events) == 1 else "result_recorded",
        attempt=None,
        success=bool(record["success"]),
        metadata=metadata,
    )

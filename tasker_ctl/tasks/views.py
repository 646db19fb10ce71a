"""The frozen views task operations return: each with ``to_json()``; rendering is the caller's.

Views are named tuples (cheap to define at import, which every command pays); the one with a
mutable default (:class:`OperatorResult`) stays a dataclass. Also here, as the local and the
server operations share them: the names they record by default and the check of a ``task list``
page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tasker_ctl.errors import UsageError
from tasker_ctl.store.records import JsonObject

SOURCE_SYSTEM = "tasker-ctl"
"""The ``source_system`` of the tasks tasker-ctl creates."""

DEFAULT_OPERATOR = "cli-operator"
"""Who an operator action is recorded as done by when no name is given."""


class StepView(NamedTuple):
    """One step as the reading commands show it."""

    name: str
    step_uuid: str
    step_type: str
    state: str
    attempts: int
    max_attempts: int
    retryable: bool
    dependencies: tuple[str, ...]
    dependencies_satisfied: bool
    ready: bool
    retry_eligible: bool
    handler_callable: str | None
    timeout_seconds: int | None
    next_retry_at: str | None
    backoff_ms: int | None
    created_at: str
    started_at: str | None
    completed_at: str | None
    result: Any
    error: JsonObject | None

    def to_json(self) -> JsonObject:
        """The step shape of ``task status --format json`` plus readiness details."""
        return {
            "name": self.name,
            "step_uuid": self.step_uuid,
            "step_type": self.step_type,
            "state": self.state,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "retryable": self.retryable,
            "dependencies": list(self.dependencies),
            "dependencies_satisfied": self.dependencies_satisfied,
            "ready": self.ready,
            "retry_eligible": self.retry_eligible,
            "handler": self.handler_callable,
            "timeout_seconds": self.timeout_seconds,
            "next_retry_at": self.next_retry_at,
            "backoff_ms": self.backoff_ms,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "result": self.result,
            "error": _error_json(self.error),
        }


class RunView(NamedTuple):
    """Whether a live process runs the task (``running``), its last run stopped before the task
    came to rest (``interrupted``), or neither (``none``). Kept apart from the task's status."""

    state: str = "none"
    pid: int | None = None
    host: str | None = None
    since: str | None = None
    heartbeat: str | None = None
    stopped_at: str | None = None

    def to_json(self) -> JsonObject:
        """``{"state", "holder": {"pid", "host"} | null, "since", "heartbeat", "stopped_at"}``."""
        holder = None if self.pid is None else {"pid": self.pid, "host": self.host}
        return {
            "state": self.state,
            "holder": holder,
            "since": self.since,
            "heartbeat": self.heartbeat,
            "stopped_at": self.stopped_at,
        }


class TaskView(NamedTuple):
    """A task with its derived status and every step (``task status``)."""

    task_uuid: str
    name: str
    namespace: str
    version: str
    status: str
    execution_status: str
    health_status: str
    recommended_action: str
    completed_steps: int
    total_steps: int
    completion_percentage: float
    created_at: str
    updated_at: str
    completed_at: str | None
    correlation_id: str | None
    initiator: str | None
    reason: str | None
    input: Any
    steps: tuple[StepView, ...]
    edges: tuple[tuple[str, str], ...]
    environment: str | None = None
    priority: int = 5
    description: str | None = None
    run: RunView = RunView()

    def to_json(self) -> JsonObject:
        """``task status --format json``: Tasker's fields, plus the command to type next."""
        from tasker_ctl.tasks.advice import recommended_command

        return {
            "task_uuid": self.task_uuid,
            "name": self.name,
            "namespace": self.namespace,
            "version": self.version,
            "status": self.status,
            "execution_status": self.execution_status,
            "health_status": self.health_status,
            "recommended_action": self.recommended_action,
            "recommended_command": recommended_command(self),
            "completed_steps": self.completed_steps,
            "total_steps": self.total_steps,
            "completion_percentage": self.completion_percentage,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "completed_at": self.completed_at,
            "correlation_id": self.correlation_id,
            "initiator": self.initiator,
            "reason": self.reason,
            "input": self.input,
            "environment": self.environment,
            "priority": self.priority,
            "description": self.description,
            "steps": [step.to_json() for step in self.steps],
            "edges": [{"from": source, "to": target} for source, target in self.edges],
            "run": self.run.to_json(),
        }


class TaskListItem(NamedTuple):
    """One line of ``task list``."""

    task_uuid: str
    name: str
    namespace: str
    version: str
    status: str
    health_status: str
    completed_steps: int
    total_steps: int
    completion_percentage: float
    created_at: str
    completed_at: str | None

    def to_json(self) -> JsonObject:
        """One item of ``task list --format json``."""
        return {
            "task_uuid": self.task_uuid,
            "name": self.name,
            "namespace": self.namespace,
            "version": self.version,
            "status": self.status,
            "health_status": self.health_status,
            "completed_steps": self.completed_steps,
            "total_steps": self.total_steps,
            "completion_percentage": self.completion_percentage,
            "created_at": self.created_at,
            "completed_at": self.completed_at,
        }


class TaskList(NamedTuple):
    """``task list``: the tasks shown and how many match in all."""

    items: tuple[TaskListItem, ...]
    total: int
    limit: int
    store_exists: bool
    page: int = 1
    """Which page of ``limit`` tasks this is (1: the newest)."""

    def to_json(self) -> JsonObject:
        """``{"tasks": [...], "total", "limit", "page"}``."""
        return {
            "tasks": [item.to_json() for item in self.items],
            "total": self.total,
            "limit": self.limit,
            "page": self.page,
        }


def require_page(limit: int, page: int) -> None:
    """Refuse a ``task list`` page that cannot be: ``--limit`` and ``--page`` start at 1."""
    if limit < 1:
        raise UsageError(f"--limit must be at least 1, not {limit}")
    if page < 1:
        raise UsageError(f"--page must be at least 1, not {page}")


class CreatedTask(NamedTuple):
    """What ``task create`` reports."""

    task_uuid: str
    status: str
    name: str
    namespace: str
    version: str
    created_at: str
    template_path: str
    steps: tuple[tuple[str, str], ...]
    environment: str | None = None
    priority: int = 5
    description: str | None = None

    def to_json(self) -> JsonObject:
        """``{"task_uuid", "status", "name", "namespace", "version", "steps"}`` and more."""
        return {
            "task_uuid": self.task_uuid,
            "status": self.status,
            "name": self.name,
            "namespace": self.namespace,
            "version": self.version,
            "created_at": self.created_at,
            "template_path": self.template_path,
            "environment": self.environment,
            "priority": self.priority,
            "description": self.description,
            "steps": [{"name": name, "step_uuid": uuid} for name, uuid in self.steps],
        }


class AuditEntry(NamedTuple):
    """One recorded transition, with the attempt result when it carried one."""

    number: int
    created_at: str
    task_uuid: str
    step_uuid: str | None
    step_name: str | None
    from_state: str | None
    to_state: str
    event: str
    attempt: int | None
    success: bool | None
    metadata: JsonObject

    def to_json(self) -> JsonObject:
        """One item of ``task audit --format json``."""
        return {
            "number": self.number,
            "created_at": self.created_at,
            "task_uuid": self.task_uuid,
            "step_uuid": self.step_uuid,
            "step_name": self.step_name,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "event": self.event,
            "attempt": self.attempt,
            "success": self.success,
            "metadata": self.metadata,
        }


@dataclass(frozen=True)
class OperatorResult:
    """What an operator action changed."""

    action: str
    task_uuid: str
    task_status: str
    steps: tuple[tuple[str, str, str], ...] = ()
    reason: str | None = None
    actor: str | None = None
    task_reopened: bool = False
    extra: JsonObject = field(default_factory=dict)

    def to_json(self) -> JsonObject:
        """``{"action", "task_uuid", "task_status", "steps": [{name, step_uuid, state}], …}``."""
        return {
            "action": self.action,
            "task_uuid": self.task_uuid,
            "task_status": self.task_status,
            "steps": [
                {"name": name, "step_uuid": step_uuid, "state": state}
                for name, step_uuid, state in self.steps
            ],
            "reason": self.reason,
            "by": self.actor,
            "task_reopened": self.task_reopened,
            **self.extra,
        }


class AttemptView(NamedTuple):
    """One recorded attempt of a step: whether it succeeded, and its error in full."""

    attempt: int
    success: bool
    error: JsonObject | None
    created_at: str

    def to_json(self) -> JsonObject:
        """``{"attempt", "success", "created_at", "error": {…, "frames", "traceback"}}``."""
        return {
            "attempt": self.attempt,
            "success": self.success,
            "created_at": self.created_at,
            "error": full_error_json(self.error),
        }


class StepDetail(NamedTuple):
    """``task step``: the step, and every attempt it made with its error."""

    step: StepView
    attempts: tuple[AttemptView, ...]

    def failed_attempt(self, number: int | None = None) -> AttemptView | None:
        """The attempt ``number`` (None: the last attempt that failed)."""
        if number is not None:
            return next((a for a in reversed(self.attempts) if a.attempt == number), None)
        return next((a for a in reversed(self.attempts) if not a.success), None)

    def to_json(self) -> JsonObject:
        """The step as ``task status`` shows it, its last error in full, and every attempt."""
        return {
            **self.step.to_json(),
            "error": full_error_json(self.step.error),
            "attempt_history": [attempt.to_json() for attempt in self.attempts],
        }


class OutputLineView(NamedTuple):
    """One line a step printed or logged (``stream``: stdout, stderr, log or note)."""

    id: int
    step_name: str
    step_uuid: str
    attempt: int
    stream: str
    text: str
    created_at: str

    def to_json(self) -> JsonObject:
        """One item of ``task logs --format json``."""
        return {
            "step_name": self.step_name,
            "step_uuid": self.step_uuid,
            "attempt": self.attempt,
            "stream": self.stream,
            "text": self.text,
            "created_at": self.created_at,
        }


class TaskLogs(NamedTuple):
    """``task logs``: captured lines in the order written, and whether the task still runs."""

    task_uuid: str
    task_status: str
    lines: tuple[OutputLineView, ...]
    step_order: tuple[str, ...]
    running: bool

    @property
    def last_id(self) -> int:
        """The id to read on from (``--follow``)."""
        return self.lines[-1].id if self.lines else 0


def _error_json(error: JsonObject | None) -> JsonObject | None:
    if error is None:
        return None
    metadata = error.get("metadata")
    exception_type = metadata.get("exception_type") if isinstance(metadata, dict) else None
    return {
        "message": error.get("message"),
        "error_type": error.get("error_type"),
        "error_code": error.get("error_code"),
        "retryable": error.get("retryable"),
        "exception_type": exception_type,
    }


def full_error_json(error: JsonObject | None) -> JsonObject | None:
    """An error with where it was raised, its frames (as data) and its traceback text."""
    short = _error_json(error)
    if short is None or error is None:
        return short
    metadata = error.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    return {
        **short,
        "raised_at": metadata.get("raised_at"),
        "frames": metadata.get("frames") or [],
        "traceback": metadata.get("traceback"),
    }

"""Task operations the command line calls: create, read (list, status, steps, step, audit) and the
operator actions (cancel, reset-step, resolve-step, complete-step, retry).

Each function takes the store path and plain values and returns a frozen view with ``to_json()``;
rendering is the caller's business. Reading functions open the store read-only and never create
it. Creating a task imports the template model (pydantic) and, only when the template has an
``input_schema``, jsonschema-rs; reading needs neither.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasker_ctl.errors import (
    InvalidDataError,
    NotFoundError,
    TaskerCtlError,
    UsageError,
    did_you_mean,
)
from tasker_ctl.states import (
    SATISFYING_STEP_STATES,
    STEP_TERMINAL,
    TASK_MACHINE,
    StepEvent,
    StepState,
    TaskEvent,
    TaskState,
    check_transition,
    derive_status,
    retry_eligible,
    step_is_ready,
)
from tasker_ctl.store import Repository, open_for_reading, open_for_writing
from tasker_ctl.store.connection import parse_timestamp
from tasker_ctl.store.records import (
    AttemptOutcome,
    JsonObject,
    NewStep,
    NewTask,
    StepChange,
    StepRecord,
    TaskChange,
    TaskGraph,
    TransitionRecord,
)

if TYPE_CHECKING:
    from tasker_ctl.template.models import TaskTemplate

DEFAULT_OPERATOR = "cli-operator"
SOURCE_SYSTEM = "tasker-ctl"
_REOPENABLE_TASK_STATES = (TaskState.ERROR, TaskState.BLOCKED_BY_FAILURES)


# --- views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
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


@dataclass(frozen=True)
class TaskView:
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

    def to_json(self) -> JsonObject:
        """``task status --format json``."""
        return {
            "task_uuid": self.task_uuid,
            "name": self.name,
            "namespace": self.namespace,
            "version": self.version,
            "status": self.status,
            "execution_status": self.execution_status,
            "health_status": self.health_status,
            "recommended_action": self.recommended_action,
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
        }


@dataclass(frozen=True)
class TaskListItem:
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


@dataclass(frozen=True)
class TaskList:
    """``task list``: the tasks shown and how many match in all."""

    items: tuple[TaskListItem, ...]
    total: int
    limit: int
    store_exists: bool

    def to_json(self) -> JsonObject:
        """``{"tasks": [...], "total", "limit"}``."""
        return {
            "tasks": [item.to_json() for item in self.items],
            "total": self.total,
            "limit": self.limit,
        }


@dataclass(frozen=True)
class CreatedTask:
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


@dataclass(frozen=True)
class AuditEntry:
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


def _error_json(error: JsonObject | None) -> JsonObject | None:
    if error is None:
        return None
    return {
        "message": error.get("message"),
        "error_type": error.get("error_type"),
        "error_code": error.get("error_code"),
        "retryable": error.get("retryable"),
    }


# --- creating ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateRequest:
    """Everything ``task create`` needs; ``input`` is already decoded JSON."""

    namespace: str
    name: str
    input: Any
    search_path: Sequence[Path]
    db_path: Path
    version: str | None = None
    initiator: str | None = None
    reason: str | None = None
    correlation_id: str | None = None
    validate_input: bool = True
    environment: str | None = None
    """``environments.<name>`` to apply; an error when the template lacks it, unless…"""
    environment_optional: bool = False
    """…this is set (an environment from the project config applies only where defined)."""
    priority: int = 5
    """1 (lowest) to 10, as Tasker's ``task create --priority``; stored and shown."""
    description: str | None = None


def create_task(request: CreateRequest) -> CreatedTask:
    """Find and validate the template, check the input, store task, steps and edges at once."""
    from tasker_ctl.template.lookup import find_template
    from tasker_ctl.template.validation import load_template

    location = find_template(request.search_path, request.namespace, request.name, request.version)
    template = load_template(location.path)
    if template.key != (location.namespace, location.name, location.version):
        raise InvalidDataError(
            f"{location.path}: its header names {location.label} but the file loads as "
            f"{template.namespace_name}/{template.name} v{template.version}",
            hint=f"run 'tasker-ctl template validate {location.path}'",
        )
    if not isinstance(request.input, dict):
        raise InvalidDataError(
            f"the task input must be a JSON object, not {_json_kind(request.input)}",
            hint="wrap the values in an object, e.g. --input '{\"order_id\": 42}'",
        )
    if request.validate_input and template.input_schema is not None:
        from tasker_ctl.tasks.inputs import require_valid_input

        require_valid_input(
            template.input_schema, request.input, what=f"{location.label} ({location.path})"
        )
    correlation_id = _correlation_id(request.correlation_id)
    environment = request.environment
    if environment is not None and request.environment_optional:
        environment = environment if environment in template.environments else None
    if environment is not None:
        template = _with_environment(template, environment, location.path)
    steps, edges = _initial_steps(template)
    new_task = NewTask(
        namespace=template.namespace_name,
        name=template.name,
        version=template.version,
        input=request.input,
        snapshot=template.to_snapshot(),
        template_path=str(location.path),
        initiator=request.initiator,
        reason=request.reason,
        source_system=SOURCE_SYSTEM,
        correlation_id=correlation_id,
        environment=environment,
        priority=request.priority,
        description=request.description,
    )
    with open_for_writing(request.db_path) as repository:
        task = repository.create_task(new_task, steps, edges)
    return CreatedTask(
        task_uuid=task.uuid,
        status=task.state,
        name=task.name,
        namespace=task.namespace,
        version=task.version,
        created_at=task.created_at,
        template_path=str(location.path),
        steps=tuple((step.name, step.uuid) for step in steps),
        environment=environment,
        priority=task.priority,
        description=task.description,
    )


def new_steps_for(template: TaskTemplate, names: Sequence[str]) -> list[NewStep]:
    """Steps to create for the template steps ``names`` (their definitions copied as JSON)."""
    from tasker_ctl.engine.dynamic import new_step

    return [new_step(template.step_named(name)) for name in names]


def _initial_steps(template: TaskTemplate) -> tuple[list[NewStep], list[tuple[str, str]]]:
    """The steps a task starts with and their edges.

    Beyond reference §6.1, a step that depends on a step created later (e.g. a report after a
    batch's convergence step) is created later too, with what it depends on, so that it never
    runs early for want of an edge.
    """
    from tasker_ctl.template.graph import initial_step_names

    dependencies = {step.name: step.dependencies for step in template.steps}
    names = initial_step_names(template)
    deferred = set(dependencies) - set(names)
    while True:
        waiting = [n for n in names if any(d in deferred for d in dependencies[n])]
        if not waiting:
            break
        deferred.update(waiting)
        names = [n for n in names if n not in deferred]
    created = set(names)
    edges = [
        (dependency, name)
        for name in names
        for dependency in dependencies[name]
        if dependency in created
    ]
    return new_steps_for(template, names), edges


def _with_environment(template: TaskTemplate, environment: str, path: Path) -> TaskTemplate:
    """The template with ``environments.<environment>`` applied (reference §1.7)."""
    if environment not in template.environments:
        known = sorted(template.environments)
        hint = (
            f"environments it defines: {', '.join(known)}"
            if known
            else "it defines no environments; leave out --env"
        )
        raise UsageError(
            f"{path}: the template has no environment '{environment}'"
            f"{did_you_mean(environment, known)}",
            hint=hint,
        )
    return template.with_environment(environment)


def _correlation_id(given: str | None) -> str:
    if given is None:
        return str(uuid_module.uuid4())
    try:
        return str(uuid_module.UUID(given))
    except ValueError as exc:
        raise UsageError(
            f"--correlation-id '{given}' is not a UUID",
            hint="give a UUID such as 0190f3f4-8a62-7cc1-b1a5-3f7c2b0e4d11, or leave it out",
        ) from exc


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


# --- reading ----------------------------------------------------------------------------------


def no_store(db_path: Path, task_reference: str) -> NotFoundError:
    """The error for a command about a task when the store file does not exist."""
    return NotFoundError(
        f"no task '{task_reference}': there is no store at {db_path}",
        hint="create a task first with `tasker-ctl task create`, "
        "or point --db / TASKER_CTL_DB at your store",
    )


@contextmanager
def _reader(db_path: Path, task_reference: str) -> Iterator[tuple[Repository, str]]:
    repository = open_for_reading(db_path)
    if repository is None:
        raise no_store(db_path, task_reference)
    with repository:
        yield repository, repository.resolve_task_uuid(task_reference)


def list_tasks(
    db_path: Path, *, namespace: str | None = None, status: str | None = None, limit: int = 20
) -> TaskList:
    """The newest tasks first; an absent store lists nothing."""
    if status is not None and status not in set(TaskState) | {"in_progress"}:
        raise UsageError(
            f"unknown task status '{status}'{did_you_mean(status, list(TaskState))}",
            hint="statuses: " + ", ".join(TaskState),
        )
    if limit < 1:
        raise UsageError(f"--limit must be at least 1, not {limit}")
    state = None if status is None else str(TaskState.parse(status))
    repository = open_for_reading(db_path)
    if repository is None:
        return TaskList(items=(), total=0, limit=limit, store_exists=False)
    with repository:
        summaries = repository.list_tasks(namespace=namespace, state=state, limit=limit)
        total = repository.count_tasks(namespace=namespace, state=state)
    items = []
    for summary in summaries:
        counts = summary.step_counts
        derived = derive_status(
            (state for state, count in counts.items() for _ in range(count)), ready_steps=0
        )
        task = summary.task
        items.append(
            TaskListItem(
                task_uuid=task.uuid,
                name=task.name,
                namespace=task.namespace,
                version=task.version,
                status=task.state,
                health_status=derived.health_status,
                completed_steps=derived.completed_steps,
                total_steps=derived.total_steps,
                completion_percentage=derived.completion_percentage,
                created_at=task.created_at,
                completed_at=task.completed_at,
            )
        )
    return TaskList(items=tuple(items), total=total, limit=limit, store_exists=True)


def task_status(db_path: Path, task_reference: str, *, now: datetime | None = None) -> TaskView:
    """The task, its derived status and every step, read from the store."""
    with _reader(db_path, task_reference) as (repository, task_uuid):
        graph = repository.load_graph(task_uuid)
    return build_task_view(graph, now=now)


def task_status_with_template(
    db_path: Path, task_reference: str, *, now: datetime | None = None
) -> tuple[TaskView, JsonObject]:
    """The task view and the template snapshot it was created from (for ``task visualize``)."""
    with _reader(db_path, task_reference) as (repository, task_uuid):
        graph = repository.load_graph(task_uuid)
        snapshot = repository.load_template_snapshot(task_uuid)
    return build_task_view(graph, now=now), snapshot


def task_template_snapshot(db_path: Path, task_reference: str) -> JsonObject:
    """The template snapshot a task was created from (what drawing its graph needs)."""
    with _reader(db_path, task_reference) as (repository, task_uuid):
        return repository.load_template_snapshot(task_uuid)


def build_task_view(graph: TaskGraph, *, now: datetime | None = None) -> TaskView:
    """A :class:`TaskView` from stored rows (no template model needed)."""
    moment = now or datetime.now(UTC)
    names = {step.uuid: step.name for step in graph.steps}
    states = {step.uuid: step.state for step in graph.steps}
    parents = graph.parents()
    views = tuple(
        _step_view(step, parents[step.uuid], names, states, moment) for step in graph.steps
    )
    derived = derive_status(
        (view.state for view in views), ready_steps=sum(1 for view in views if view.ready)
    )
    task = graph.task
    return TaskView(
        task_uuid=task.uuid,
        name=task.name,
        namespace=task.namespace,
        version=task.version,
        status=task.state,
        execution_status=derived.execution_status,
        health_status=derived.health_status,
        recommended_action=derived.recommended_action,
        completed_steps=derived.completed_steps,
        total_steps=derived.total_steps,
        completion_percentage=derived.completion_percentage,
        created_at=task.created_at,
        updated_at=task.updated_at,
        completed_at=task.completed_at,
        correlation_id=task.correlation_id,
        initiator=task.initiator,
        reason=task.reason,
        input=task.input,
        steps=views,
        edges=tuple((names[e.from_step_uuid], names[e.to_step_uuid]) for e in graph.edges),
        environment=task.environment,
        priority=task.priority,
        description=task.description,
    )


def _step_view(
    step: StepRecord,
    parent_uuids: list[str],
    names: Mapping[str, str],
    states: Mapping[str, str],
    now: datetime,
) -> StepView:
    satisfied = all(states[parent] in SATISFYING_STEP_STATES for parent in parent_uuids)
    next_retry = None if step.next_retry_at is None else parse_timestamp(step.next_retry_at)
    eligible = retry_eligible(
        attempts=step.attempts, max_attempts=step.max_attempts, retryable=step.retryable
    )
    ready = step_is_ready(
        state=step.state,
        dependencies_satisfied=satisfied,
        attempts=step.attempts,
        max_attempts=step.max_attempts,
        retryable=step.retryable,
        next_retry_at=next_retry,
        now=now,
    )
    callable_name = step.handler.get("callable")
    return StepView(
        name=step.name,
        step_uuid=step.uuid,
        step_type=step.step_type,
        state=step.state,
        attempts=step.attempts,
        max_attempts=step.max_attempts,
        retryable=step.retryable,
        dependencies=tuple(names[parent] for parent in parent_uuids),
        dependencies_satisfied=satisfied,
        ready=ready,
        retry_eligible=eligible,
        handler_callable=callable_name if isinstance(callable_name, str) else None,
        timeout_seconds=step.timeout_seconds,
        next_retry_at=step.next_retry_at,
        backoff_ms=step.backoff_ms,
        created_at=step.created_at,
        started_at=step.started_at,
        completed_at=step.completed_at,
        result=step.result,
        error=step.error,
    )


def task_steps(db_path: Path, task_reference: str) -> TaskView:
    """``task steps``: the same view as ``task status`` (the caller shows the steps)."""
    return task_status(db_path, task_reference)


def task_step(db_path: Path, task_reference: str, step_reference: str) -> StepView:
    """One step of a task, named by step name or UUID."""
    view = task_status(db_path, task_reference)
    return view.steps[_step_index(view, step_reference)]


def _step_index(view: TaskView, step_reference: str) -> int:
    for index, step in enumerate(view.steps):
        if step.name == step_reference or step.step_uuid == step_reference.lower():
            return index
    prefix = step_reference.lower()
    by_prefix = [
        i for i, s in enumerate(view.steps) if len(prefix) >= 4 and s.step_uuid.startswith(prefix)
    ]
    if len(by_prefix) == 1:
        return by_prefix[0]
    suggestion = did_you_mean(step_reference, [step.name for step in view.steps])
    raise NotFoundError(
        f"task {view.task_uuid} has no step '{step_reference}'{suggestion}",
        hint=f"list its steps with `tasker-ctl task steps {view.task_uuid}`",
    )


def task_audit(
    db_path: Path, task_reference: str, step_reference: str | None = None
) -> list[AuditEntry]:
    """Every recorded transition of a task (and its steps), or of one step, oldest first."""
    with _reader(db_path, task_reference) as (repository, task_uuid):
        graph = repository.load_graph(task_uuid)
        view = build_task_view(graph)
        step_uuid = None
        if step_reference is not None:
            step_uuid = view.steps[_step_index(view, step_reference)].step_uuid
        transitions = repository.load_transitions(task_uuid, step_uuid=step_uuid)
    names = {step.uuid: step.name for step in graph.steps}
    return [_audit_entry(number, record, names) for number, record in enumerate(transitions, 1)]


def _audit_entry(number: int, record: TransitionRecord, names: dict[str, str]) -> AuditEntry:
    success: bool | None = None
    if record.to_state == StepState.ENQUEUED_FOR_ORCHESTRATION:
        success = True
    elif record.to_state == StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION:
        success = False
    return AuditEntry(
        number=number,
        created_at=record.created_at,
        task_uuid=record.task_uuid,
        step_uuid=record.step_uuid,
        step_name=None if record.step_uuid is None else names.get(record.step_uuid),
        from_state=record.from_state,
        to_state=record.to_state,
        event=record.event,
        attempt=record.attempt,
        success=success,
        metadata=record.metadata,
    )


# --- operator actions -------------------------------------------------------------------------


@contextmanager
def _writer(db_path: Path, task_reference: str) -> Iterator[tuple[Repository, TaskGraph]]:
    """A write transaction on an existing task, its graph read under the write lock."""
    if not db_path.is_file():
        raise no_store(db_path, task_reference)
    with open_for_writing(db_path) as repository, repository.write():
        task_uuid = repository.resolve_task_uuid(task_reference)
        yield repository, repository.load_graph(task_uuid)


def _find_step(graph: TaskGraph, step_reference: str) -> StepRecord:
    view = build_task_view(graph)
    return graph.steps[_step_index(view, step_reference)]


def _reopen_change(graph: TaskGraph, metadata: JsonObject) -> list[TaskChange]:
    """The task ``reset`` that an operator action on a failed task implies, if any."""
    if graph.task.state in _REOPENABLE_TASK_STATES:
        return [
            TaskChange(
                task_uuid=graph.task.uuid,
                event=TaskEvent.RESET,
                expected_state=graph.task.state,
                metadata=metadata,
            )
        ]
    return []


def _step_operation(
    db_path: Path,
    task_reference: str,
    step_reference: str,
    *,
    action: str,
    event: StepEvent,
    metadata: JsonObject,
    outcome: AttemptOutcome | None = None,
    reason: str | None,
    actor: str,
) -> OperatorResult:
    with _writer(db_path, task_reference) as (repository, graph):
        step = _find_step(graph, step_reference)
        task_changes = _reopen_change(graph, {**metadata, "step": step.name})
        repository.apply(
            step_changes=[
                StepChange(
                    step_uuid=step.uuid,
                    event=event,
                    expected_state=step.state,
                    outcome=outcome,
                    metadata=metadata,
                )
            ],
            task_changes=task_changes,
        )
        updated = repository.get_step(step.uuid)
        task = repository.get_task(graph.task.uuid)
    assert updated is not None and task is not None
    return OperatorResult(
        action=action,
        task_uuid=task.uuid,
        task_status=task.state,
        steps=((updated.name, updated.uuid, updated.state),),
        reason=reason,
        actor=actor,
        task_reopened=bool(task_changes),
    )


def reset_step(
    db_path: Path,
    task_reference: str,
    step_reference: str,
    *,
    reason: str | None = None,
    reset_by: str = DEFAULT_OPERATOR,
) -> OperatorResult:
    """``task reset-step``: a step in ``error`` back to ``pending`` with its attempts at 0."""
    return _step_operation(
        db_path,
        task_reference,
        step_reference,
        action="reset_step",
        event=StepEvent.RESET_FOR_RETRY,
        metadata={"reason": reason, "reset_by": reset_by},
        reason=reason,
        actor=reset_by,
    )


def resolve_step(
    db_path: Path,
    task_reference: str,
    step_reference: str,
    *,
    reason: str,
    resolved_by: str = DEFAULT_OPERATOR,
) -> OperatorResult:
    """``task resolve-step``: mark a step ``resolved_manually`` (it then satisfies dependents)."""
    return _step_operation(
        db_path,
        task_reference,
        step_reference,
        action="resolve_step",
        event=StepEvent.RESOLVE_MANUALLY,
        metadata={"reason": reason, "resolved_by": resolved_by},
        reason=reason,
        actor=resolved_by,
    )


def complete_step(
    db_path: Path,
    task_reference: str,
    step_reference: str,
    *,
    result: Any,
    reason: str,
    completed_by: str = DEFAULT_OPERATOR,
    metadata: JsonObject | None = None,
) -> OperatorResult:
    """``task complete-step``: mark a step ``complete`` with a result given by the operator."""
    result_metadata = {
        **(metadata or {}),
        "manually_completed": True,
        "completed_by": completed_by,
        "completion_reason": reason,
    }
    return _step_operation(
        db_path,
        task_reference,
        step_reference,
        action="complete_step",
        event=StepEvent.COMPLETE_MANUALLY,
        metadata={"reason": reason, "completed_by": completed_by},
        outcome=AttemptOutcome(success=True, result=result, metadata=result_metadata),
        reason=reason,
        actor=completed_by,
    )


def cancel_task(
    db_path: Path,
    task_reference: str,
    *,
    reason: str | None = None,
    cancelled_by: str = DEFAULT_OPERATOR,
) -> OperatorResult:
    """``task cancel``: cancel every unfinished step (and those in error), then the task."""
    metadata = {"reason": reason, "cancelled_by": cancelled_by}
    with _writer(db_path, task_reference) as (repository, graph):
        check_transition(TASK_MACHINE, graph.task.state, TaskEvent.CANCEL)
        cancellable = [step for step in graph.steps if step.state not in STEP_TERMINAL]
        repository.apply(
            step_changes=[
                StepChange(
                    step.uuid, StepEvent.CANCEL, expected_state=step.state, metadata=metadata
                )
                for step in cancellable
            ],
            task_changes=[
                TaskChange(
                    graph.task.uuid,
                    TaskEvent.CANCEL,
                    expected_state=graph.task.state,
                    metadata=metadata,
                )
            ],
        )
    return OperatorResult(
        action="cancel",
        task_uuid=graph.task.uuid,
        task_status=TaskState.CANCELLED,
        steps=tuple((step.name, step.uuid, StepState.CANCELLED) for step in cancellable),
        reason=reason,
        actor=cancelled_by,
    )


def retry_task(
    db_path: Path,
    task_reference: str,
    step_reference: str | None = None,
    *,
    reason: str | None = None,
    reset_by: str = DEFAULT_OPERATOR,
) -> OperatorResult:
    """``task retry``: reset one step, or every step in ``error``, so that a run retries them."""
    if step_reference is not None:
        return reset_step(db_path, task_reference, step_reference, reason=reason, reset_by=reset_by)
    metadata = {"reason": reason, "reset_by": reset_by}
    with _writer(db_path, task_reference) as (repository, graph):
        failed = [step for step in graph.steps if step.state == StepState.ERROR]
        if not failed:
            raise TaskerCtlError(
                f"task {graph.task.uuid} has no step in error; nothing to retry",
                hint=f"see its steps with `tasker-ctl task steps {graph.task.uuid}`",
            )
        task_changes = _reopen_change(graph, metadata)
        repository.apply(
            step_changes=[
                StepChange(step.uuid, StepEvent.RESET_FOR_RETRY, StepState.ERROR, metadata=metadata)
                for step in failed
            ],
            task_changes=task_changes,
        )
        task = repository.get_task(graph.task.uuid)
    assert task is not None
    return OperatorResult(
        action="retry",
        task_uuid=task.uuid,
        task_status=task.state,
        steps=tuple((step.name, step.uuid, StepState.PENDING) for step in failed),
        reason=reason,
        actor=reset_by,
        task_reopened=bool(task_changes),
    )

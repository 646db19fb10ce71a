"""Reading tasks: list, status, steps, step, audit. Opens the store read-only, never creates it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tasker_ctl.errors import NotFoundError, UsageError, did_you_mean
from tasker_ctl.states import (
    SATISFYING_STEP_STATES,
    TASK_ENDED,
    TASK_RESTING,
    StepState,
    TaskState,
    derive_status,
    retry_eligible,
    step_is_ready,
)
from tasker_ctl.store import Repository, open_for_reading
from tasker_ctl.store.connection import parse_timestamp
from tasker_ctl.store.records import (
    JsonObject,
    LeaseRecord,
    StepRecord,
    TaskGraph,
    TransitionRecord,
)
from tasker_ctl.tasks.views import (
    AttemptView,
    AuditEntry,
    OutputLineView,
    RunView,
    StepDetail,
    StepView,
    TaskList,
    TaskListItem,
    TaskLogs,
    TaskView,
    require_page,
)


def no_store(db_path: Path, task_reference: str | None = None) -> NotFoundError:
    """The error for a command about a task (or all tasks) when the store file does not exist
    (or ``db_path`` is a directory)."""
    where = f"there is no store at {db_path}"
    if db_path.is_dir():
        where += " (it is a directory)"
    return NotFoundError(
        where if task_reference is None else f"no task '{task_reference}': {where}",
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
    db_path: Path,
    *,
    namespace: str | None = None,
    status: str | None = None,
    limit: int = 20,
    page: int = 1,
) -> TaskList:
    """The newest tasks first, ``limit`` of them from page ``page``; an absent store lists
    nothing."""
    if status is not None and status not in set(TaskState) | {"in_progress"}:
        raise UsageError(
            f"unknown task status '{status}'{did_you_mean(status, list(TaskState))}",
            hint="statuses: " + ", ".join(TaskState),
        )
    require_page(limit, page)
    state = None if status is None else str(TaskState.parse(status))
    repository = open_for_reading(db_path)
    if repository is None:
        return TaskList(items=(), total=0, limit=limit, store_exists=False, page=page)
    with repository:
        summaries = repository.list_tasks(
            namespace=namespace, state=state, limit=limit, offset=(page - 1) * limit
        )
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
    return TaskList(items=tuple(items), total=total, limit=limit, store_exists=True, page=page)


def short_task_reference(db_path: Path, task_uuid: str) -> str:
    """The shortest unique prefix (8 characters or more) of a task's UUID, for commands to show."""
    with _reader(db_path, task_uuid) as (repository, resolved):
        return repository.shortest_unique_prefix(resolved)


def task_status(db_path: Path, task_reference: str, *, now: datetime | None = None) -> TaskView:
    """The task, its derived status, whether a run holds it, and every step, from the store."""
    with _reader(db_path, task_reference) as (repository, task_uuid):
        graph = repository.load_graph(task_uuid)
        lease = repository.get_lease(task_uuid)
    view = build_task_view(graph, now=now)
    return view._replace(run=run_view(graph.task.state, graph.task.updated_at, lease, now))


def run_view(
    task_state: str, updated_at: str, lease: LeaseRecord | None, now: datetime | None = None
) -> RunView:
    """Running (a live holder), interrupted (no live run, the task not at rest), or none."""
    from tasker_ctl.engine.lease import holder_alive

    if lease is not None and holder_alive(lease, now):
        holder = lease.holder
        return RunView(
            "running", holder.pid, holder.host, lease.acquired_at, lease.heartbeat_at, None
        )
    if task_state in TASK_RESTING:
        return RunView()
    if lease is None:
        return RunView("interrupted", stopped_at=updated_at)
    stopped_at = lease.released_at or lease.heartbeat_at
    holder = lease.holder
    return RunView(
        "interrupted", holder.pid, holder.host, lease.acquired_at, lease.heartbeat_at, stopped_at
    )


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
    return view.steps[step_index(view, step_reference)]


def task_step_detail(db_path: Path, task_reference: str, step_reference: str) -> StepDetail:
    """One step with every attempt it made (``task step``)."""
    with _reader(db_path, task_reference) as (repository, task_uuid):
        view = build_task_view(repository.load_graph(task_uuid))
        step = view.steps[step_index(view, step_reference)]
        records = repository.load_attempts(step.step_uuid)
    attempts = tuple(
        AttemptView(record.attempt, record.success, record.error, record.created_at)
        for record in records
    )
    return StepDetail(step, attempts)


def task_logs(
    db_path: Path,
    task_reference: str,
    step_reference: str | None = None,
    *,
    attempt: int | None = None,
    after_id: int = 0,
) -> TaskLogs:
    """What a task's steps (or one step, one attempt) printed and logged, oldest first.

    ``after_id`` reads only lines stored since an earlier call (``--follow``); ``running`` says
    whether more may come (the task has not come to rest).
    """
    with _reader(db_path, task_reference) as (repository, task_uuid):
        graph = repository.load_graph(task_uuid)
        names = {step.uuid: step.name for step in graph.steps}
        step_uuid = None
        if step_reference is not None:
            view = build_task_view(graph)
            step_uuid = view.steps[step_index(view, step_reference)].step_uuid
        records = repository.load_output(
            task_uuid, step_uuid=step_uuid, attempt=attempt, after_id=after_id
        )
    lines = tuple(
        OutputLineView(
            record.id,
            names.get(record.step_uuid, record.step_uuid),
            record.step_uuid,
            record.attempt,
            record.stream,
            record.text,
            record.created_at,
        )
        for record in records
    )
    return TaskLogs(
        task_uuid=task_uuid,
        task_status=graph.task.state,
        lines=lines,
        step_order=tuple(step.name for step in graph.steps),
        running=graph.task.state not in TASK_ENDED,
    )


def step_index(view: TaskView, step_reference: str) -> int:
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


FINAL_RESULTS_SHOWN = 3


def final_results(db_path: Path, task_reference: str) -> tuple[list[tuple[str, Any]], int]:
    """The results of the task's final steps (no step depends on them) that finished.

    At most :data:`FINAL_RESULTS_SHOWN` ``(step name, result)`` pairs, and how many there are.
    """
    with _reader(db_path, task_reference) as (repository, task_uuid):
        graph = repository.load_graph(task_uuid)
    has_children = {edge.from_step_uuid for edge in graph.edges}
    finals = [
        (step.name, step.result)
        for step in graph.steps
        if step.uuid not in has_children
        and step.state in SATISFYING_STEP_STATES
        and step.result is not None
    ]
    return finals[:FINAL_RESULTS_SHOWN], len(finals)


def task_audit(
    db_path: Path, task_reference: str, step_reference: str | None = None
) -> list[AuditEntry]:
    """Every recorded transition of a task (and its steps), or of one step, oldest first."""
    with _reader(db_path, task_reference) as (repository, task_uuid):
        graph = repository.load_graph(task_uuid)
        step_uuid = None
        if step_reference is not None:
            view = build_task_view(graph)
            step_uuid = view.steps[step_index(view, step_reference)].step_uuid
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

"""Operator actions with Tasker's guards and wording: cancel, reset-step, resolve-step,
complete-step, retry.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tasker_ctl.errors import TaskerCtlError
from tasker_ctl.states import (
    REOPENABLE_TASK_STATES,
    STEP_TERMINAL,
    TASK_MACHINE,
    StepEvent,
    StepState,
    TaskEvent,
    TaskState,
    check_transition,
)
from tasker_ctl.store import Repository, open_for_writing
from tasker_ctl.store.connection import utc_now
from tasker_ctl.store.records import (
    AttemptOutcome,
    JsonObject,
    StepChange,
    StepRecord,
    TaskChange,
    TaskGraph,
)
from tasker_ctl.tasks.reads import build_task_view, no_store, step_index
from tasker_ctl.tasks.views import DEFAULT_OPERATOR, OperatorResult


@contextmanager
def _writer(
    db_path: Path, task_reference: str, action: str, actor: str, reason: str | None
) -> Iterator[tuple[Repository, TaskGraph]]:
    """A write transaction on an existing task, its graph read under the write lock.

    When a live run holds the task, the same transaction tells it what ``action`` did: the run
    notices within about a second, stops scheduling and records its running handlers.
    """
    if not db_path.is_file():
        raise no_store(db_path, task_reference)
    with open_for_writing(db_path) as repository, repository.write():
        task_uuid = repository.resolve_task_uuid(task_reference)
        yield repository, repository.load_graph(task_uuid)
        _tell_live_run(repository, task_uuid, action, actor, reason)


def _tell_live_run(
    repository: Repository, task_uuid: str, action: str, actor: str, reason: str | None
) -> None:
    from tasker_ctl.engine.lease import holder_alive

    lease = repository.get_lease(task_uuid)
    if lease is not None and holder_alive(lease):
        notice = {
            "action": action,
            "by": actor,
            "reason": reason,
            "at": utc_now(),
            "pid": os.getpid(),
        }
        repository.interrupt_run(task_uuid, lease.token, notice)


def _find_step(graph: TaskGraph, step_reference: str) -> StepRecord:
    view = build_task_view(graph)
    return graph.steps[step_index(view, step_reference)]


def _reopen_change(graph: TaskGraph, metadata: JsonObject) -> list[TaskChange]:
    """The task ``reset`` that an operator action on a failed task implies, if any."""
    if graph.task.state in REOPENABLE_TASK_STATES:
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
    with _writer(db_path, task_reference, action, actor, reason) as (repository, graph):
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
    with _writer(db_path, task_reference, "cancel", cancelled_by, reason) as (repository, graph):
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
    with _writer(db_path, task_reference, "retry", reset_by, reason) as (repository, graph):
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

"""``task run`` as a library call: find the task, check its handlers load, run the engine.

Before anything runs, every handler the task can still reach is loaded and resolved (the steps
that are not finished, and the template steps a decision or a batch may yet create): a problem
stops the run with every problem listed and the task unchanged (``HandlersUnloadableError``).
A task that is already blocked by failures is not run again (``TaskAlreadyBlockedError`` names
the failed steps) unless ``retry_failed`` resets them first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasker_ctl.engine.events import EventBus, Observer
from tasker_ctl.engine.scheduler import Engine, RunOptions, RunResult
from tasker_ctl.errors import EXIT_FAILURE, TaskerCtlError
from tasker_ctl.handlers.payload import HandlerDefinition
from tasker_ctl.handlers.preflight import (
    HandlersUnloadableError,
    HandlerUse,
    discover_modules,
    unresolved_handlers,
)
from tasker_ctl.handlers.registry import HandlerRegistry
from tasker_ctl.states import (
    SATISFYING_STEP_STATES,
    STEP_TERMINAL,
    TASK_FINISHED,
    StepState,
    TaskState,
)
from tasker_ctl.store import open_for_writing
from tasker_ctl.store.records import JsonObject, TaskGraph
from tasker_ctl.tasks.reads import no_store

RETRY_FAILED_REASON = "task run --retry-failed"
# Steps a run picks up when their parents are satisfied.
_RUNNABLE_STEP_STATES = frozenset(
    {
        StepState.PENDING,
        StepState.ENQUEUED,
        StepState.IN_PROGRESS,
        StepState.WAITING_FOR_RETRY,
        StepState.ENQUEUED_FOR_ORCHESTRATION,
        StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
    }
)


@dataclass(frozen=True)
class FailedStep:
    """A step in ``error``: its name, attempts and last error."""

    name: str
    attempts: int
    max_attempts: int
    error: JsonObject | None


class TaskAlreadyBlockedError(TaskerCtlError):
    """``task run`` on a task blocked by failures: nothing can run until they are dealt with."""

    exit_code = EXIT_FAILURE

    def __init__(self, task_uuid: str, name: str, failed: Sequence[FailedStep]) -> None:
        names = ", ".join(step.name for step in failed)
        super().__init__(f"task {task_uuid} is already blocked by failures ({names}); nothing ran")
        self.task_uuid = task_uuid
        self.name = name
        self.failed = tuple(failed)


def run_task(
    db_path: Path,
    task_reference: str,
    *,
    handler_modules: Sequence[str] = (),
    observers: Sequence[Observer] = (),
    options: RunOptions | None = None,
    retry_failed: bool = False,
) -> RunResult:
    """Run the task ``task_reference`` (a UUID or a unique prefix) in the store at ``db_path``.

    ``handler_modules`` are imported (packages with their submodules) before any callable is
    resolved, so handlers registered by name are found. Nothing is run, and nothing stored
    changes, when a module fails to import or a callable does not resolve
    (``HandlersUnloadableError``, every problem listed). ``retry_failed`` resets every step in
    error first (as ``task retry``); without it a task already blocked by failures raises
    ``TaskAlreadyBlockedError``.
    """
    if not db_path.is_file():
        raise no_store(db_path, task_reference)
    registry = HandlerRegistry()
    with open_for_writing(db_path) as repository:
        task_uuid = repository.resolve_task_uuid(task_reference)
        graph = repository.load_graph(task_uuid)
        if graph.task.state not in TASK_FINISHED:
            snapshot = repository.load_template_snapshot(task_uuid)
            problems = discover_modules(registry, handler_modules)
            problems += unresolved_handlers(registry, reachable_handlers(graph, snapshot))
            if problems:
                raise HandlersUnloadableError(task_uuid, problems)
        if retry_failed and failed_steps(graph):
            from tasker_ctl.tasks.actions import retry_task

            retry_task(db_path, task_uuid, reason=RETRY_FAILED_REASON)
            graph = repository.load_graph(task_uuid)
        if is_blocked(graph):
            raise TaskAlreadyBlockedError(task_uuid, _display_name(graph), failed_steps(graph))
        engine = Engine(repository, registry, EventBus(list(observers)), options)
        return engine.run(task_uuid)


def reachable_handlers(graph: TaskGraph, snapshot: JsonObject) -> list[HandlerUse]:
    """The handler blocks a run of this task may still call, each with the steps using it.

    Unfinished steps (those in error too: a retry runs them), and the template steps not yet
    created (decision branches, batch workers, convergence steps).
    """
    uses: dict[tuple[str, str | None, str | None], tuple[HandlerDefinition, list[str]]] = {}

    def add(handler: Any, step_name: str) -> None:
        definition = _definition(handler)
        key = (definition.callable, definition.method, definition.resolver)
        uses.setdefault(key, (definition, []))[1].append(step_name)

    for step in graph.steps:
        if step.state not in STEP_TERMINAL:
            add(step.handler, step.name)
    created = {step.template_step_name for step in graph.steps}
    for template_step in snapshot.get("steps") or []:
        if isinstance(template_step, dict) and template_step.get("name") not in created:
            add(template_step.get("handler"), str(template_step.get("name")))
    return [HandlerUse(definition, tuple(steps)) for definition, steps in uses.values()]


def failed_steps(graph: TaskGraph) -> list[FailedStep]:
    """The task's steps in ``error``, in creation order."""
    return [
        FailedStep(step.name, step.attempts, step.max_attempts, step.error)
        for step in graph.steps
        if step.state == StepState.ERROR
    ]


def is_blocked(graph: TaskGraph) -> bool:
    """True when the task rests blocked by failures and no step could run."""
    if graph.task.state != TaskState.BLOCKED_BY_FAILURES or not failed_steps(graph):
        return False
    states = {step.uuid: step.state for step in graph.steps}
    parents = graph.parents()
    return not any(
        step.state in _RUNNABLE_STEP_STATES
        and all(states[parent] in SATISFYING_STEP_STATES for parent in parents[step.uuid])
        for step in graph.steps
    )


def _definition(handler: Any) -> HandlerDefinition:
    block = handler if isinstance(handler, dict) else {}
    return HandlerDefinition(
        callable=str(block.get("callable") or ""),
        method=block.get("method"),
        resolver=block.get("resolver"),
        initialization=block.get("initialization") or {},
    )


def _display_name(graph: TaskGraph) -> str:
    task = graph.task
    return f"{task.namespace}/{task.name} v{task.version}"

"""The task-sequence-step payload a handler is called with, and its ``StepContext``.

The payload has the shape of Tasker's orchestrator message (reference §5.3); the context is built
from it by whichever ``tasker_core`` is active (tasker-py or tasker-ctl's own).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tasker_ctl.ids import random_uuid
from tasker_ctl.sdk.compat import activate_tasker_core, active_implementation


@dataclass(frozen=True)
class HandlerDefinition:
    """A template's ``handler`` block: what to run, and how."""

    callable: str
    method: str | None = None
    resolver: str | None = None
    initialization: Mapping[str, Any] = field(default_factory=dict)


def build_payload(
    *,
    task_uuid: str,
    correlation_id: str,
    task_name: str,
    task_version: str,
    namespace: str,
    context: Mapping[str, Any],
    step_uuid: str,
    step_name: str,
    template_step_name: str,
    attempts: int,
    max_attempts: int,
    inputs: Mapping[str, Any] | None = None,
    checkpoint: Mapping[str, Any] | None = None,
    dependency_results: Mapping[str, tuple[str, Any]] | None = None,
    handler: HandlerDefinition,
) -> dict[str, Any]:
    """The task-sequence-step payload of reference §5.3.

    ``attempts`` counts *previous* attempts. ``dependency_results`` maps every transitive
    ancestor's name to ``(step_uuid, result)``; each is wrapped as the orchestrator does.
    """
    return {
        "task": {
            "task": {
                "task_uuid": task_uuid,
                "correlation_id": correlation_id,
                "context": dict(context),
            },
            "task_name": task_name,
            "task_version": task_version,
            "namespace_name": namespace,
        },
        "workflow_step": {
            "workflow_step_uuid": step_uuid,
            "task_uuid": task_uuid,
            "name": step_name,
            "template_step_name": template_step_name,
            "attempts": attempts,
            "max_attempts": max_attempts,
            "inputs": dict(inputs or {}),
            "checkpoint": dict(checkpoint) if checkpoint is not None else None,
        },
        "dependency_results": WrappedResults(
            {} if dependency_results is None else dependency_results
        ),
        "step_definition": {
            "name": template_step_name,
            "handler": {
                "callable": handler.callable,
                "method": handler.method,
                "resolver": handler.resolver,
                "initialization": dict(handler.initialization),
            },
        },
    }


class WrappedResults(Mapping[str, dict[str, Any]]):
    """Ancestor results wrapped as Tasker's orchestrator wraps them, each built when first read.

    ``results`` may itself be lazy (the engine finds a step's ancestors only if a handler
    looks), so nothing here walks it until asked.
    """

    def __init__(self, results: Mapping[str, tuple[str, Any]]) -> None:
        self._results = results
        self._wrapped: dict[str, dict[str, Any]] = {}

    def __getitem__(self, name: str) -> dict[str, Any]:
        wrapped = self._wrapped.get(name)
        if wrapped is None:
            ancestor_uuid, result = self._results[name]
            wrapped = self._wrapped[name] = {
                "step_uuid": ancestor_uuid,
                "success": True,
                "status": "completed",
                "result": result,
                "metadata": {},
            }
        return wrapped

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)


def build_context(payload: Mapping[str, Any], handler_name: str) -> Any:
    """A ``StepContext`` of the active ``tasker_core`` for ``payload``.

    Identifiers come from the payload: ``task.task.task_uuid``, ``task.task.correlation_id`` and
    ``workflow_step.workflow_step_uuid``; they must be UUID strings, as in tasker-py.
    """
    activate_tasker_core()
    types = importlib.import_module("tasker_core.types")
    task = payload.get("task") or {}
    inner = task.get("task") or task
    step = payload.get("workflow_step") or {}
    make_event = types.FfiStepEvent.model_construct  # tasker-ctl's own: every field is a str
    if active_implementation() == "tasker-py":
        # tasker-py's pydantic StepContext wants a plain dict of every ancestor.
        payload = {**payload, "dependency_results": dict(payload.get("dependency_results") or {})}
        make_event = types.FfiStepEvent  # validated, as tasker-py's worker does
    event = make_event(
        event_id=random_uuid(),
        task_uuid=str(inner.get("task_uuid", "")),
        step_uuid=str(step.get("workflow_step_uuid", "")),
        correlation_id=str(inner.get("correlation_id") or inner.get("task_uuid", "")),
        task_sequence_step=dict(payload),
    )
    return types.StepContext.from_ffi_event(event, handler_name)

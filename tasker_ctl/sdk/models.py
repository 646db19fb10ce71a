"""Attribute-style views of the task-sequence-step payload (``context.task_sequence_step``).

Handlers read e.g. ``context.task_sequence_step.workflow_step.name`` for the step name, which the
context has no field for. Mirrors ``tasker_core.models``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is any mapping (the engine hands out lazy ones), else empty."""
    return value if isinstance(value, Mapping) else {}


@dataclass
class HandlerWrapper:
    """``step_definition.handler``: callable, method, resolver and initialization."""

    callable: str
    initialization: dict[str, Any] = field(default_factory=dict)
    handler_method: str | None = None
    resolver: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> HandlerWrapper:
        """Read the handler block; ``method`` becomes ``handler_method``."""
        raw = _mapping(data)
        return cls(
            callable=raw.get("callable", ""),
            initialization=raw.get("initialization") or {},
            handler_method=raw.get("method"),
            resolver=raw.get("resolver"),
        )


@dataclass
class StepDefinitionWrapper:
    """``step_definition``: the template's declaration of the step."""

    name: str
    description: str
    handler: HandlerWrapper
    dependencies: list[str] = field(default_factory=list)
    retry: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: int = 30
    publishes_events: list[Any] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any) -> StepDefinitionWrapper:
        """Read the step definition block."""
        raw = _mapping(data)
        return cls(
            name=raw.get("name", ""),
            handler=HandlerWrapper.from_dict(raw.get("handler")),
            description=raw.get("description") or "",
            dependencies=raw.get("dependencies") or [],
            retry=raw.get("retry") or {},
            timeout_seconds=raw.get("timeout_seconds") or 30,
            publishes_events=raw.get("publishes_events") or [],
        )


@dataclass
class DependencyResultsWrapper:
    """``dependency_results``: wrapped ancestor results keyed by step name."""

    _results: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> DependencyResultsWrapper:
        """Wrap the dependency results mapping."""
        return cls(_results=_mapping(data))

    def get_result(self, step_name: str) -> Any:
        """The stored envelope (``{"result": ..., ...}``), or None."""
        return self._results.get(step_name)

    def get_results(self, step_name: str) -> Any:
        """The ancestor's output, unwrapped from its envelope, or None."""
        stored = self._results.get(step_name)
        if isinstance(stored, dict) and "result" in stored:
            return stored["result"]
        return stored

    def __getitem__(self, step_name: str) -> Any:
        return self.get_result(step_name)

    def keys(self) -> list[str]:
        """Names of the ancestors with results."""
        return list(self._results)

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __contains__(self, step_name: object) -> bool:
        return step_name in self._results


@dataclass
class WorkflowStepWrapper:
    """``workflow_step``: this step instance (name, attempts, inputs, results, timestamps).

    The fields and their order are tasker-py's; ``template_step_name`` and ``checkpoint`` are
    tasker-ctl's additions at the end (a batch worker's template step, its checkpoint).
    """

    workflow_step_uuid: str
    task_uuid: str
    name: str
    named_step_uuid: str | None = None
    retryable: bool = True
    max_attempts: int = 3
    in_process: bool = False
    processed: bool = False
    processed_at: datetime | None = None
    attempts: int = 0
    last_attempted_at: datetime | None = None
    backoff_request_seconds: int = 0
    inputs: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    template_step_name: str | None = None
    checkpoint: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> WorkflowStepWrapper:
        """Read the workflow step block (timestamps as given: ISO strings or datetimes)."""
        raw = _mapping(data)
        checkpoint = raw.get("checkpoint")
        return cls(
            workflow_step_uuid=raw.get("workflow_step_uuid", ""),
            task_uuid=raw.get("task_uuid", ""),
            name=raw.get("name", ""),
            named_step_uuid=raw.get("named_step_uuid"),
            retryable=raw.get("retryable", True),
            max_attempts=raw.get("max_attempts", 3),
            in_process=raw.get("in_process", False),
            processed=raw.get("processed", False),
            processed_at=raw.get("processed_at"),
            attempts=raw.get("attempts") or 0,
            last_attempted_at=raw.get("last_attempted_at"),
            backoff_request_seconds=raw.get("backoff_request_seconds", 0),
            inputs=raw.get("inputs") or {},
            results=raw.get("results") or {},
            created_at=raw.get("created_at"),
            updated_at=raw.get("updated_at"),
            template_step_name=raw.get("template_step_name"),
            checkpoint=checkpoint if isinstance(checkpoint, dict) else None,
        )


@dataclass
class TaskWrapper:
    """``task``: the task's identity and its input context."""

    task_uuid: str
    context: dict[str, Any] = field(default_factory=dict)
    namespace_name: str = ""
    task_name: str = ""
    task_version: str = ""
    correlation_id: str | None = None
    parent_correlation_id: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> TaskWrapper:
        """Read the task block, whose fields sit under a nested ``task`` key."""
        outer = _mapping(data)
        inner = _mapping(outer.get("task")) or outer
        return cls(
            task_uuid=inner.get("task_uuid", ""),
            context=inner.get("context") or {},
            namespace_name=outer.get("namespace_name") or inner.get("namespace_name", ""),
            task_name=outer.get("task_name") or inner.get("task_name", ""),
            task_version=outer.get("task_version") or inner.get("task_version", ""),
            correlation_id=inner.get("correlation_id"),
            parent_correlation_id=inner.get("parent_correlation_id"),
        )


@dataclass
class TaskSequenceStepWrapper:
    """The whole payload: task, workflow step, dependency results, step definition."""

    task: TaskWrapper
    workflow_step: WorkflowStepWrapper
    dependency_results: DependencyResultsWrapper
    step_definition: StepDefinitionWrapper

    @classmethod
    def from_dict(cls, data: Any) -> TaskSequenceStepWrapper:
        """Wrap a task-sequence-step payload."""
        raw = _mapping(data)
        return cls(
            task=TaskWrapper.from_dict(raw.get("task")),
            workflow_step=WorkflowStepWrapper.from_dict(raw.get("workflow_step")),
            dependency_results=DependencyResultsWrapper.from_dict(raw.get("dependency_results")),
            step_definition=StepDefinitionWrapper.from_dict(raw.get("step_definition")),
        )

    def get_task_field(self, field_name: str) -> Any:
        """A task input value, or None."""
        return self.task.context.get(field_name)

    def get_dependency_result(self, step_name: str) -> Any:
        """An ancestor's unwrapped output, or None."""
        return self.dependency_results.get_results(step_name)

    get_results = get_dependency_result


__all__ = [
    "DependencyResultsWrapper",
    "HandlerWrapper",
    "StepDefinitionWrapper",
    "TaskSequenceStepWrapper",
    "TaskWrapper",
    "WorkflowStepWrapper",
]

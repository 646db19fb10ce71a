"""The engine's view of the steps of a run: each step's state, the edges, the handlers to call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tasker_ctl.engine.isolation import FrozenJson
from tasker_ctl.handlers.invoke import ResolvedHandler, UnresolvedHandler
from tasker_ctl.handlers.payload import HandlerDefinition
from tasker_ctl.handlers.registry import HandlerRegistry
from tasker_ctl.retry import RetryPolicy
from tasker_ctl.states import SATISFYING_STEP_STATES
from tasker_ctl.store.records import StepRecord


@dataclass
class RunStep:
    """The scheduler's view of one step, kept in step with what is committed."""

    record: StepRecord
    state: str
    attempts: int
    checkpoint: dict[str, Any] | None
    result: Any = None
    frozen_result: FrozenJson | None = None  # what handlers are handed: see engine.isolation
    token: int = 0
    yields: int = 0
    invoker: ResolvedHandler | UnresolvedHandler | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_record(cls, record: StepRecord) -> RunStep:
        """The step as stored, about to take part in a run."""
        return cls(
            record=record,
            state=str(record.state),
            attempts=record.attempts,
            checkpoint=dict(record.checkpoint) if record.checkpoint else None,
            result=record.result,
            policy=RetryPolicy.from_mapping(record.retry),
        )


class RunGraph:
    """The steps of a run by uuid, their edges both ways, and their uuids by name.

    Steps created while the task runs are added here as they are committed.
    """

    def __init__(self) -> None:
        self.steps: dict[str, RunStep] = {}
        self.parents: dict[str, list[str]] = {}
        self.children: dict[str, list[str]] = {}
        self.uuids: dict[str, str] = {}

    def load(self, records: Iterable[StepRecord], parents: dict[str, list[str]]) -> None:
        """Take in the stored steps and each step's parents."""
        self.steps = {record.uuid: RunStep.from_record(record) for record in records}
        self.parents = parents
        self.uuids = {step.record.name: uuid for uuid, step in self.steps.items()}

    def add(self, record: StepRecord) -> RunStep:
        """A step created during the run, with no edges yet."""
        step = self.steps[record.uuid] = RunStep.from_record(record)
        self.uuids[record.name] = record.uuid
        self.parents[record.uuid] = []
        return step

    def link_children(self) -> None:
        """The children lists, from the parents lists."""
        self.children = {step_uuid: [] for step_uuid in self.steps}
        for step_uuid, parents in self.parents.items():
            for parent in parents:
                self.children[parent].append(step_uuid)

    def satisfied(self, step_uuid: str) -> bool:
        """True when the step no longer holds its dependents back."""
        return self.steps[step_uuid].state in SATISFYING_STEP_STATES

    def all_satisfied(self) -> bool:
        """True when every step is complete (or resolved)."""
        return all(s.state in SATISFYING_STEP_STATES for s in self.steps.values())


class Invokers:
    """Each step's handler, resolved once per distinct handler block of the run."""

    def __init__(self, registry: HandlerRegistry) -> None:
        self._registry = registry
        self._resolved: dict[str, ResolvedHandler | UnresolvedHandler] = {}

    def attach(self, step: RunStep) -> None:
        """Give ``step`` the invoker of its handler block."""
        key = repr(sorted(step.record.handler.items()))
        if key not in self._resolved:
            self._resolved[key] = self._registry.resolve(handler_definition(step.record.handler))
        step.invoker = self._resolved[key]


def handler_definition(handler: Mapping[str, Any]) -> HandlerDefinition:
    """A stored handler block as the handler layer takes it."""
    return HandlerDefinition(
        callable=str(handler.get("callable", "")),
        method=handler.get("method"),
        resolver=handler.get("resolver"),
        initialization=handler.get("initialization") or {},
    )

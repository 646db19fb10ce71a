"""Batch workers: how many of one batch run at once, and what a permanent failure means.

``failure_strategy`` (see :mod:`tasker_ctl.engine.scheduler`) is applied once a worker's retries
are spent: ``continue_on_failure`` completes it with the partial-failure result made here.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tasker_ctl.engine.steps import RunStep
from tasker_ctl.handlers.outcome import StepOutcome

if TYPE_CHECKING:
    from tasker_ctl.template.models import TaskTemplate

CONTINUE_ON_FAILURE = "continue_on_failure"
FAIL_FAST = "fail_fast"


@dataclass(frozen=True)
class BatchRule:
    """How the workers of one batch run: at most ``parallelism`` at once (0: no cap)."""

    parallelism: int
    failure_strategy: str


class BatchGate:
    """Holds batch workers back while their batch is at ``parallelism`` or stopped (fail_fast).

    Steps that are not batch workers pass straight through. The rules come from the template
    snapshot the task was created from, looked up once per batch.
    """

    def __init__(self, template: Callable[[], TaskTemplate]) -> None:
        self._template = template
        self._rules: dict[str, BatchRule | None] = {}
        self._running: Counter[str] = Counter()
        self._held: dict[str, deque[str]] = {}
        self._stopped: set[str] = set()

    def rule(self, step: RunStep) -> BatchRule | None:
        """The batch_config of a batch worker's template step (None for any other step)."""
        if step.record.step_type != "batch_worker":
            return None
        name = step.record.template_step_name
        if name not in self._rules:
            template = self._template()
            config = next((s.batch_config for s in template.steps if s.name == name), None)
            self._rules[name] = (
                None
                if config is None
                else BatchRule(config.parallelism, str(config.failure_strategy))
            )
        return self._rules[name]

    def held_back(self, step: RunStep) -> bool:
        """True to keep ``step`` waiting; False when it may start now (its place is taken)."""
        rule = self.rule(step)
        if rule is None:
            return False
        batch = step.record.template_step_name
        if batch in self._stopped:
            return True  # fail_fast: it stays pending for a later run
        if rule.parallelism and self._running[batch] >= rule.parallelism:
            self._held.setdefault(batch, deque()).append(step.record.uuid)
            return True
        self._running[batch] += 1
        return False

    def finished(self, step: RunStep) -> str | None:
        """An attempt of ``step`` is over: free its place; the held worker that may start now."""
        if self.rule(step) is None:
            return None
        batch = step.record.template_step_name
        self._running[batch] -= 1
        held = self._held.get(batch)
        if held and batch not in self._stopped:
            return held.popleft()
        return None

    def stop(self, step: RunStep) -> None:
        """``fail_fast``: no further worker of ``step``'s batch starts in this run."""
        self._stopped.add(step.record.template_step_name)


def partial_failure(step: RunStep, outcome: StepOutcome) -> StepOutcome:
    """A ``continue_on_failure`` worker's result when its batch failed: nothing processed."""
    inputs = step.record.inputs or {}
    found = inputs.get("cursor")
    cursor: dict[str, Any] = found if isinstance(found, dict) else {}
    size = cursor.get("batch_size")
    return StepOutcome.succeeded(
        {
            "batch_id": cursor.get("batch_id"),
            "items_processed": 0,
            "items_succeeded": 0,
            "items_failed": size if isinstance(size, int) else 0,
            "items_skipped": 0,
            "last_cursor": None,
            "batch_metadata": inputs.get("batch_metadata") or {},
            "partial_failure": True,
            "batch_failed": True,
            "error": {"message": outcome.error_message, "error_type": outcome.error_type},
        },
        {"batch_worker": True, "had_failures": True, "failure_strategy": CONTINUE_ON_FAILURE},
    )

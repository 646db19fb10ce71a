"""Batch workers: how many of one batch run at once, and what a permanent failure means.

``failure_strategy`` (see :mod:`tasker_ctl.engine.scheduler`) is applied once a worker's retries
are spent: ``continue_on_failure`` completes it with the partial-failure result made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasker_ctl.engine.steps import RunStep
from tasker_ctl.handlers.outcome import StepOutcome

CONTINUE_ON_FAILURE = "continue_on_failure"
FAIL_FAST = "fail_fast"


@dataclass(frozen=True)
class BatchRule:
    """How the workers of one batch run: at most ``parallelism`` at once (0: no cap)."""

    parallelism: int
    failure_strategy: str


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

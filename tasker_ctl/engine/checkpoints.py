"""Checkpoint yields: store the progress and call the handler again, within a limit.

A yield is neither an attempt nor a state move: the step stays ``in_progress``, and a run that
stops (or a retry) resumes from the last stored checkpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tasker_ctl.engine.dispatch import submit
from tasker_ctl.engine.steps import RunStep
from tasker_ctl.engine.timestamps import now_text
from tasker_ctl.engine.workers import WorkerPool
from tasker_ctl.handlers.outcome import StepOutcome

if TYPE_CHECKING:
    from tasker_ctl.engine.run import Run

MAX_CHECKPOINT_YIELDS = 10_000
CHECKPOINT_LIMIT = "checkpoint_limit"


def continue_from_checkpoint(
    run: Run, step_uuid: str, outcome: StepOutcome, pool: WorkerPool
) -> StepOutcome | None:
    """Store a checkpoint yield and call the handler again: neither an attempt nor a move.

    Returns the failure to record instead when the handler yields without end.
    """
    step = run.graph.steps[step_uuid]
    step.yields += 1
    if step.yields > MAX_CHECKPOINT_YIELDS:
        message = f"the handler yielded more than {MAX_CHECKPOINT_YIELDS} checkpoints"
        return StepOutcome.failed(message, CHECKPOINT_LIMIT, retryable=False)
    save_checkpoint(run, step, outcome)
    submit(run, step, pool)
    return None


def save_checkpoint(run: Run, step: RunStep, outcome: StepOutcome) -> None:
    """Merge the yielded checkpoint into the step's history and store it."""
    checkpoint = outcome.checkpoint
    step.checkpoint = merged_checkpoint(step.checkpoint, checkpoint.to_dict() if checkpoint else {})
    run.repository.save_checkpoint(step.record.uuid, step.checkpoint)


def merged_checkpoint(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with a timestamp and the history of every earlier yield's cursor."""
    history = list((previous or {}).get("history", []))
    history.append({"cursor": new.get("cursor"), "items_processed": new.get("items_processed")})
    return {**new, "timestamp": now_text(), "history": history}

"""Outcome and retry: commit what an attempt produced, and decide what a failure means.

A success completes the step (with the steps it creates, in the same transaction) and releases
its dependents. A failure is retried after the backoff the retry policy decides, or, once that
is spent, is permanent: the step is in error, or, for a batch worker, what the batch's
``failure_strategy`` says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tasker_ctl.engine.batches import CONTINUE_ON_FAILURE, FAIL_FAST, partial_failure
from tasker_ctl.engine.events import ErrorInfo
from tasker_ctl.engine.steps import RunStep
from tasker_ctl.engine.transitions import move_step
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.retry import decide
from tasker_ctl.states import StepEvent
from tasker_ctl.store.records import AttemptOutcome

if TYPE_CHECKING:
    from tasker_ctl.engine.dynamic import StepPlan
    from tasker_ctl.engine.run import Run


def record(run: Run, step_uuid: str, outcome: StepOutcome) -> None:
    """Commit what an attempt produced; a completion also creates the steps it asks for."""
    step = run.graph.steps[step_uuid]
    plan = run.created.plan(step, outcome.result) if outcome.success else None
    if isinstance(plan, StepOutcome):
        outcome, plan = plan, None  # an invalid decision/batch outcome fails the step
    if outcome.success:
        complete(run, step, outcome, plan)
        return
    decision = decide(
        step.policy,
        attempts=step.attempts,
        result_retryable=outcome.retryable,
        error_type=outcome.error_type,
        metadata=outcome.metadata,
    )
    error = ErrorInfo.from_outcome(outcome, not decision.permanent)
    attempt = AttemptOutcome(
        success=False,
        result=outcome.result,
        error=error_json(outcome),
        metadata=outcome.metadata or None,
    )
    if decision.permanent:
        rule = run.batches.rule(step)
        if rule is not None and rule.failure_strategy == CONTINUE_ON_FAILURE:
            complete(run, step, partial_failure(step, outcome), None, decision.reason)
            return
        if rule is not None and rule.failure_strategy == FAIL_FAST:
            run.batches.stop(step)
        move_step(
            run,
            step,
            (StepEvent.ENQUEUE_AS_ERROR_FOR_ORCHESTRATION, StepEvent.FAIL),
            outcome=attempt,
            error=error,
            metadata={"reason": decision.reason},
        )
        return
    due = datetime.now(UTC) + timedelta(milliseconds=decision.delay_ms)
    move_step(
        run,
        step,
        (StepEvent.ENQUEUE_AS_ERROR_FOR_ORCHESTRATION, StepEvent.WAIT_FOR_RETRY),
        outcome=attempt,
        error=error,
        next_retry_at=due.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        delay_ms=decision.delay_ms,
    )
    # Counted from the commit, so the recorded gap is never shorter than the delay.
    run.readiness.retry_at(run.options.clock() + decision.delay_ms / 1000, step_uuid)


def complete(
    run: Run,
    step: RunStep,
    outcome: StepOutcome,
    plan: StepPlan | None,
    failure_reason: str | None = None,
) -> None:
    """Commit a completion (and the steps it creates, atomically), then release dependents."""
    attempt = AttemptOutcome(success=True, result=outcome.result, metadata=outcome.metadata or None)
    step.result = outcome.result
    step.frozen_result = None  # encoded when a dependent first reads it (engine.ancestors)
    metadata = None
    if failure_reason is not None:
        metadata = {"failure_strategy": CONTINUE_ON_FAILURE, "reason": failure_reason}
    added = move_step(
        run,
        step,
        (StepEvent.ENQUEUE_FOR_ORCHESTRATION, StepEvent.COMPLETE),
        outcome=attempt,
        metadata=metadata,
        plan=plan,
    )
    run.readiness.on_satisfied(step.record.uuid, added, None if plan is None else plan.edges)
    if plan is not None:
        run.created.announce(plan)


def error_json(outcome: StepOutcome) -> dict[str, Any]:
    """The error document stored with a failed attempt."""
    return {
        "message": outcome.error_message,
        "error_type": outcome.error_type,
        "error_code": outcome.error_code,
        "retryable": outcome.retryable,
        "metadata": outcome.metadata,
    }

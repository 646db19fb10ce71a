"""Stopping a run: let running handlers finish for a grace period and record what they did.

A run stops early on Ctrl-C, or when an operator changed the task from another process (the
lease's notice): the operator's moves stand, and are taken in (and shown) before the run ends.
"""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING

from tasker_ctl.engine.checkpoints import save_checkpoint
from tasker_ctl.engine.dispatch import end_flight
from tasker_ctl.engine.events import RunStopping, StepTransitioned
from tasker_ctl.engine.outcomes import error_json, record
from tasker_ctl.engine.timestamps import now_text
from tasker_ctl.engine.transitions import CHANGED_ELSEWHERE
from tasker_ctl.engine.workers import WorkerPool
from tasker_ctl.handlers.outcome import StepOutcome
from tasker_ctl.store.records import AttemptOutcome
from tasker_ctl.store.repository import TransitionConflictError

if TYPE_CHECKING:
    from tasker_ctl.engine.run import Run


def drain(run: Run, pool: WorkerPool) -> None:
    """Let running handlers finish for a while and record what they did."""
    options = run.options
    deadline = options.clock() + options.grace_seconds
    try:
        _announce_stopping(run)
        while run.in_flight:
            remaining = deadline - options.clock()
            if remaining <= 0:
                break
            try:
                completion = pool.completions.get(timeout=remaining)
            except queue.Empty:
                break
            if run.in_flight.get(completion.step_uuid) != completion.token:
                continue
            end_flight(run, completion.step_uuid)
            run.flush_output()
            if completion.outcome.is_checkpoint_yield:
                # Keep the progress; the step stays in_progress and resumes from it.
                step = run.graph.steps[completion.step_uuid]
                save_checkpoint(run, step, completion.outcome)
            else:
                _record_drained(run, completion.step_uuid, completion.outcome)
    except KeyboardInterrupt:
        pass
    finally:
        run.abandoned = tuple(run.graph.steps[uuid].record.name for uuid in run.in_flight)


def _announce_stopping(run: Run) -> None:
    running = tuple(run.graph.steps[uuid].record.name for uuid in run.in_flight)
    grace = run.options.grace_seconds
    run.commits.emit(RunStopping(run.task_uuid, running, grace, now_text()))


def _record_drained(run: Run, step_uuid: str, outcome: StepOutcome) -> None:
    """Record a handler that finished while the run stops; if an operator moved its step
    meanwhile (``task cancel``), the move stands and the attempt's result is still kept."""
    try:
        record(run, step_uuid, outcome)
    except TransitionConflictError:
        step = run.graph.steps[step_uuid]
        run.repository.add_attempt_result(
            run.task_uuid,
            step_uuid,
            step.attempts,
            AttemptOutcome(
                success=outcome.success,
                result=outcome.result,
                error=None if outcome.success else error_json(outcome),
                metadata={**(outcome.metadata or {}), "step_moved_by_operator": True},
            ),
        )


def reload_states(run: Run) -> None:
    """After an operator's change: where the task and its steps now stand in the store,
    told to the observers too (so a live view does not keep showing the old states)."""
    graph = run.repository.load_graph(run.task_uuid)
    at = now_text()
    for stored in graph.steps:
        step = run.graph.steps.get(stored.uuid)
        if step is not None and step.state != stored.state:
            run.commits.emit(
                StepTransitioned(
                    task_uuid=run.task_uuid,
                    step_uuid=stored.uuid,
                    step_name=stored.name,
                    from_state=step.state,
                    to_state=str(stored.state),
                    event=CHANGED_ELSEWHERE,
                    attempt=stored.attempts,
                    max_attempts=stored.max_attempts,
                    at=at,
                )
            )
            step.state = str(stored.state)
    run.task.moved_elsewhere(str(graph.task.state), at)

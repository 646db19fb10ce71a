"""Step transitions during a run: checked by the state machine, committed, then announced.

Every move the engine makes goes through :func:`tasker_ctl.states.check_transition` (via
:func:`planned_moves`), so an impossible move is an ``InvalidTransitionError`` naming the states,
never a bare ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from tasker_ctl.engine.events import ErrorInfo, StepTransitioned
from tasker_ctl.engine.paths import FAILED_STATES
from tasker_ctl.engine.steps import RunStep
from tasker_ctl.engine.timestamps import now_text
from tasker_ctl.states import STEP_MACHINE, StateMachine, StepEvent, StepState, check_transition
from tasker_ctl.store.records import AttemptOutcome, StepChange, StepRecord

if TYPE_CHECKING:
    from tasker_ctl.engine.dynamic import StepPlan
    from tasker_ctl.engine.run import Run

CHANGED_ELSEWHERE = "changed_by_operator"  # the event of a move another process made

_Event = TypeVar("_Event", bound=str)


def planned_moves(
    machine: StateMachine, state: str, events: Iterable[_Event]
) -> list[tuple[str, str, _Event]]:
    """``(from, to, event)`` for each of ``events`` taken in order from ``state``.

    Raises ``InvalidTransitionError`` at the first event the machine refuses.
    """
    moves = []
    for event in events:
        target = check_transition(machine, state, event)
        moves.append((state, target, event))
        state = target
    return moves


def move_step(
    run: Run,
    step: RunStep,
    events: Iterable[StepEvent],
    *,
    outcome: AttemptOutcome | None = None,
    error: ErrorInfo | None = None,
    next_retry_at: str | None = None,
    delay_ms: int | None = None,
    metadata: dict[str, Any] | None = None,
    plan: StepPlan | None = None,
) -> list[StepRecord]:
    """Commit a sequence of transitions of one step atomically, then announce each.

    With a ``plan``, the steps it creates are committed in the same transaction (and returned).
    """
    moves = planned_moves(STEP_MACHINE, step.state, events)
    changes = []
    attempts = step.attempts
    for index, (from_state, _, event) in enumerate(moves):
        if event == StepEvent.START:
            attempts += 1
        waiting = event == StepEvent.WAIT_FOR_RETRY
        changes.append(
            StepChange(
                step_uuid=step.record.uuid,
                event=event,
                expected_state=from_state,
                outcome=outcome if index == 0 else None,
                next_retry_at=next_retry_at if waiting else None,
                backoff_ms=delay_ms if waiting else None,
                metadata=metadata,
            )
        )
    added: list[StepRecord] = []
    repository = run.repository
    at = now_text()  # the moves' time, as stored and as announced
    if plan is None:
        repository.apply(changes, now=at)
    else:
        with repository.write():
            repository.apply(changes, now=at)
            added = repository.add_steps(run.task_uuid, plan.steps, plan.edges)
    if moves:
        step.state = moves[-1][1]
    step.attempts = attempts
    for from_state, to_state, event in moves:
        waiting = to_state == StepState.WAITING_FOR_RETRY
        run.commits.emit(
            StepTransitioned(
                task_uuid=run.task_uuid,
                step_uuid=step.record.uuid,
                step_name=step.record.name,
                from_state=from_state,
                to_state=to_state,
                event=str(event),
                attempt=attempts,
                max_attempts=step.record.max_attempts,
                at=at,
                error=error if to_state in FAILED_STATES else None,
                next_retry_at=next_retry_at if waiting else None,
                delay_ms=delay_ms if waiting else None,
            )
        )
    return added

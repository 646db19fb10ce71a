"""Task and step state machines as data, with one transition check and the derived task status.

State names are stored exactly as the Tasker reference spells them. Each machine is a table
``(from_state, event) -> to_state`` plus the set of terminal states; ``check_transition`` is the
only place that decides whether a move is allowed, and the store applies the result with a
compare-and-set update.

Where the reference is buggy or silent, the tables follow its "recommended for tasker-ctl" rules:

* a step in ``error`` is terminal for automatic processing (no automatic ``retry`` out of it) but
  accepts the operator events: ``reset_for_retry`` (``task reset-step``, only from ``error``),
  ``resolve_manually``, ``complete_manually`` (from any non-terminal state and from ``error``)
  and ``cancel``;
* an operator action on a task in ``error`` or ``blocked_by_failures`` reopens it with ``reset``
  (to ``pending``), recorded as a task transition; ``error`` → ``reset`` is the one move allowed
  out of a terminal task state.

Derived status (``execution_status``, ``health_status``, ``recommended_action``,
``completion_percentage``) follows the reference's ladder: the first matching rule wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tasker_ctl.errors import TaskerCtlError


class TaskState(StrEnum):
    """The twelve task states of the reference."""

    PENDING = "pending"
    INITIALIZING = "initializing"
    ENQUEUING_STEPS = "enqueuing_steps"
    STEPS_IN_PROCESS = "steps_in_process"
    EVALUATING_RESULTS = "evaluating_results"
    WAITING_FOR_DEPENDENCIES = "waiting_for_dependencies"
    WAITING_FOR_RETRY = "waiting_for_retry"
    BLOCKED_BY_FAILURES = "blocked_by_failures"
    COMPLETE = "complete"
    ERROR = "error"
    CANCELLED = "cancelled"
    RESOLVED_MANUALLY = "resolved_manually"

    @classmethod
    def parse(cls, text: str) -> TaskState:
        """A state from its stored name; the legacy ``in_progress`` means ``steps_in_process``."""
        return cls.STEPS_IN_PROCESS if text == "in_progress" else cls(text)


class StepState(StrEnum):
    """The ten step states of the reference."""

    PENDING = "pending"
    ENQUEUED = "enqueued"
    IN_PROGRESS = "in_progress"
    ENQUEUED_FOR_ORCHESTRATION = "enqueued_for_orchestration"
    ENQUEUED_AS_ERROR_FOR_ORCHESTRATION = "enqueued_as_error_for_orchestration"
    WAITING_FOR_RETRY = "waiting_for_retry"
    COMPLETE = "complete"
    ERROR = "error"
    CANCELLED = "cancelled"
    RESOLVED_MANUALLY = "resolved_manually"


class TaskEvent(StrEnum):
    """Events that move a task (the reference's ``TaskEvent`` variants, in snake case)."""

    START = "start"
    READY_STEPS_FOUND = "ready_steps_found"
    NO_STEPS_FOUND = "no_steps_found"
    NO_DEPENDENCIES_READY = "no_dependencies_ready"
    STEPS_ENQUEUED = "steps_enqueued"
    ENQUEUE_FAILED = "enqueue_failed"
    STEP_COMPLETED = "step_completed"
    ALL_STEPS_COMPLETED = "all_steps_completed"
    STEP_FAILED = "step_failed"
    ALL_STEPS_SUCCESSFUL = "all_steps_successful"
    PERMANENT_FAILURE = "permanent_failure"
    DEPENDENCIES_READY = "dependencies_ready"
    RETRY_READY = "retry_ready"
    GIVE_UP = "give_up"
    MANUAL_RESOLUTION = "manual_resolution"
    CANCEL = "cancel"
    RESET = "reset"
    COMPLETE = "complete"
    FAIL = "fail"


class StepEvent(StrEnum):
    """Events that move a step (the reference's ``StepEvent`` variants, in snake case)."""

    ENQUEUE = "enqueue"
    START = "start"
    ENQUEUE_FOR_ORCHESTRATION = "enqueue_for_orchestration"
    ENQUEUE_AS_ERROR_FOR_ORCHESTRATION = "enqueue_as_error_for_orchestration"
    COMPLETE = "complete"
    FAIL = "fail"
    WAIT_FOR_RETRY = "wait_for_retry"
    RETRY = "retry"
    RESET_FOR_RETRY = "reset_for_retry"
    CANCEL = "cancel"
    RESOLVE_MANUALLY = "resolve_manually"
    COMPLETE_MANUALLY = "complete_manually"


class InvalidTransitionError(TaskerCtlError):
    """A state machine refused an event in the current state (exit code 1)."""

    def __init__(
        self,
        message: str,
        *,
        machine: str,
        from_state: str,
        event: str,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.machine = machine
        self.from_state = from_state
        self.event = event


@dataclass(frozen=True)
class StateMachine:
    """A transition table: ``(from_state, event) -> to_state``, terminal states, and wording.

    ``refusals`` maps an event to the message used when that event is refused, formatted with
    ``{from}`` and ``{event}``; other refusals use the generic wording.
    """

    name: str
    states: frozenset[str]
    terminal: frozenset[str]
    transitions: Mapping[tuple[str, str], str]
    refusals: Mapping[str, str]

    def events_from(self, state: str) -> dict[str, str]:
        """Every event accepted in ``state``, with the state it leads to."""
        return {event: to for (source, event), to in self.transitions.items() if source == state}


def _table(rows: Iterable[tuple[Iterable[str], str, str]]) -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for sources, event, target in rows:
        for source in sources:
            key = (str(source), str(event))
            if key in table:
                raise ValueError(f"duplicate transition {key}")
            table[key] = str(target)
    return table


_T = TaskState
_TE = TaskEvent
TASK_TERMINAL = frozenset({_T.COMPLETE, _T.ERROR, _T.CANCELLED, _T.RESOLVED_MANUALLY})
_TASK_NON_TERMINAL = [state for state in TaskState if state not in TASK_TERMINAL]

TASK_MACHINE = StateMachine(
    name="task",
    states=frozenset(TaskState),
    terminal=frozenset(TASK_TERMINAL),
    transitions=_table(
        [
            ([_T.PENDING], _TE.START, _T.INITIALIZING),
            ([_T.INITIALIZING, _T.EVALUATING_RESULTS], _TE.READY_STEPS_FOUND, _T.ENQUEUING_STEPS),
            ([_T.INITIALIZING], _TE.NO_STEPS_FOUND, _T.COMPLETE),
            (
                [_T.INITIALIZING, _T.EVALUATING_RESULTS],
                _TE.NO_DEPENDENCIES_READY,
                _T.WAITING_FOR_DEPENDENCIES,
            ),
            ([_T.ENQUEUING_STEPS], _TE.STEPS_ENQUEUED, _T.STEPS_IN_PROCESS),
            ([_T.ENQUEUING_STEPS], _TE.ENQUEUE_FAILED, _T.ERROR),
            ([_T.STEPS_IN_PROCESS], _TE.STEP_COMPLETED, _T.EVALUATING_RESULTS),
            ([_T.STEPS_IN_PROCESS], _TE.ALL_STEPS_COMPLETED, _T.EVALUATING_RESULTS),
            ([_T.STEPS_IN_PROCESS], _TE.STEP_FAILED, _T.WAITING_FOR_RETRY),
            ([_T.EVALUATING_RESULTS], _TE.ALL_STEPS_SUCCESSFUL, _T.COMPLETE),
            ([_T.EVALUATING_RESULTS], _TE.PERMANENT_FAILURE, _T.BLOCKED_BY_FAILURES),
            ([_T.WAITING_FOR_DEPENDENCIES], _TE.DEPENDENCIES_READY, _T.EVALUATING_RESULTS),
            ([_T.WAITING_FOR_RETRY], _TE.RETRY_READY, _T.ENQUEUING_STEPS),
            ([_T.BLOCKED_BY_FAILURES], _TE.GIVE_UP, _T.ERROR),
            ([_T.BLOCKED_BY_FAILURES], _TE.MANUAL_RESOLUTION, _T.RESOLVED_MANUALLY),
            (_TASK_NON_TERMINAL, _TE.CANCEL, _T.CANCELLED),
            # Legacy shortcuts kept by the reference.
            ([_T.STEPS_IN_PROCESS], _TE.COMPLETE, _T.COMPLETE),
            ([_T.STEPS_IN_PROCESS], _TE.FAIL, _T.ERROR),
            # Reopening after an operator action (recommended for tasker-ctl).
            ([_T.ERROR, _T.BLOCKED_BY_FAILURES], _TE.RESET, _T.PENDING),
        ]
    ),
    refusals={_TE.CANCEL: "Cannot cancel a completed task"},
)

REOPENABLE_TASK_STATES = frozenset(
    _T(source) for (source, event) in TASK_MACHINE.transitions if event == _TE.RESET
)
"""Task states an operator action reopens (to ``pending``): the sources of ``reset``."""

TASK_ENDED = TASK_TERMINAL | {_T.BLOCKED_BY_FAILURES}
"""Nothing moves a task here on its own: no more work or output comes until an operator acts."""

TASK_RESTING = TASK_ENDED | {_T.PENDING}
"""A task here needs no run: nothing of it was left half-way."""

TASK_FINISHED = TASK_TERMINAL - REOPENABLE_TASK_STATES
"""Terminal and not reopenable: a task here never runs a handler again and needs nothing more."""

TASK_SUCCEEDED = frozenset({_T.COMPLETE, _T.RESOLVED_MANUALLY})
"""A task that ended well: complete, or resolved by an operator."""

_S = StepState
_MANUAL_REFUSAL = "Cannot manually resolve step: invalid transition from {from} to {event}"
_SE = StepEvent
STEP_TERMINAL = frozenset({_S.COMPLETE, _S.CANCELLED, _S.RESOLVED_MANUALLY})
_STEP_NON_TERMINAL = [state for state in StepState if state not in STEP_TERMINAL]

STEP_MACHINE = StateMachine(
    name="step",
    states=frozenset(StepState),
    terminal=frozenset(STEP_TERMINAL),
    transitions=_table(
        [
            ([_S.PENDING], _SE.ENQUEUE, _S.ENQUEUED),
            ([_S.ENQUEUED, _S.PENDING], _SE.START, _S.IN_PROGRESS),
            ([_S.IN_PROGRESS], _SE.ENQUEUE_FOR_ORCHESTRATION, _S.ENQUEUED_FOR_ORCHESTRATION),
            (
                [_S.IN_PROGRESS],
                _SE.ENQUEUE_AS_ERROR_FOR_ORCHESTRATION,
                _S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
            ),
            ([_S.ENQUEUED_FOR_ORCHESTRATION, _S.IN_PROGRESS], _SE.COMPLETE, _S.COMPLETE),
            (
                [
                    _S.ENQUEUED_FOR_ORCHESTRATION,
                    _S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
                    _S.IN_PROGRESS,
                    _S.PENDING,
                    _S.ENQUEUED,
                ],
                _SE.FAIL,
                _S.ERROR,
            ),
            (
                [
                    _S.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
                    _S.PENDING,
                    _S.ENQUEUED,
                    _S.IN_PROGRESS,
                ],
                _SE.WAIT_FOR_RETRY,
                _S.WAITING_FOR_RETRY,
            ),
            ([_S.WAITING_FOR_RETRY], _SE.RETRY, _S.PENDING),
            ([_S.ERROR], _SE.RESET_FOR_RETRY, _S.PENDING),
            (_STEP_NON_TERMINAL, _SE.CANCEL, _S.CANCELLED),
            (_STEP_NON_TERMINAL, _SE.RESOLVE_MANUALLY, _S.RESOLVED_MANUALLY),
            (_STEP_NON_TERMINAL, _SE.COMPLETE_MANUALLY, _S.COMPLETE),
        ]
    ),
    refusals={
        _SE.RESOLVE_MANUALLY: _MANUAL_REFUSAL,
        _SE.COMPLETE_MANUALLY: _MANUAL_REFUSAL,
        _SE.RESET_FOR_RETRY: "Cannot reset step: it is {from}; only a step in error can be reset",
    },
)


def check_transition(machine: StateMachine, from_state: str, event: str) -> str:
    """The state ``event`` leads to from ``from_state``; raise ``InvalidTransitionError`` if none.

    An explicit table entry wins over the terminal guard, which is how a task in ``error`` can
    still be reopened by an operator.
    """
    target = machine.transitions.get((str(from_state), str(event)))
    if target is not None:
        return target
    if from_state not in machine.states:
        raise InvalidTransitionError(
            f"Unknown {machine.name} state '{from_state}'",
            machine=machine.name,
            from_state=str(from_state),
            event=str(event),
        )
    refusal = machine.refusals.get(str(event))
    if refusal is not None:
        message = refusal.replace("{from}", str(from_state)).replace("{event}", str(event))
    elif from_state in machine.terminal:
        message = f"Cannot transition from terminal state '{from_state}'"
    else:
        message = f"Invalid {machine.name} transition from {from_state} on event {event}"
    accepted = sorted(machine.events_from(str(from_state)))
    hint = (
        f"a {machine.name} in {from_state} accepts: {', '.join(accepted)}"
        if accepted
        else f"a {machine.name} in {from_state} accepts no further events"
    )
    raise InvalidTransitionError(
        message, machine=machine.name, from_state=str(from_state), event=str(event), hint=hint
    )


# --- derived status ---------------------------------------------------------------------------

SATISFYING_STEP_STATES = frozenset({StepState.COMPLETE, StepState.RESOLVED_MANUALLY})
"""Only these satisfy a dependency (and count as completed)."""

PROCESSING_STEP_STATES = frozenset(
    {
        StepState.ENQUEUED,
        StepState.IN_PROGRESS,
        StepState.ENQUEUED_FOR_ORCHESTRATION,
        StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION,
    }
)
"""Steps some worker holds: the task is ``processing`` while any is in one of these."""

RECOVERING_STEP_STATES = frozenset(
    {StepState.WAITING_FOR_RETRY, StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION}
)
"""Steps that failed an attempt and will be retried: health ``recovering``."""

READY_CANDIDATE_STEP_STATES = frozenset({StepState.PENDING, StepState.WAITING_FOR_RETRY})


def retry_eligible(*, attempts: int, max_attempts: int | None, retryable: bool | None) -> bool:
    """Reference eligibility: the first attempt always; later ones if retryable and under max."""
    if attempts == 0:
        return True
    allowed = 3 if max_attempts is None else max_attempts
    return (retryable is None or retryable) and attempts < allowed


def step_is_ready(
    *,
    state: str,
    dependencies_satisfied: bool,
    attempts: int,
    max_attempts: int | None,
    retryable: bool | None,
    next_retry_at: datetime | None,
    now: datetime,
) -> bool:
    """Reference readiness: waiting state, parents satisfied, retry-eligible, backoff elapsed."""
    return (
        state in READY_CANDIDATE_STEP_STATES
        and dependencies_satisfied
        and retry_eligible(attempts=attempts, max_attempts=max_attempts, retryable=retryable)
        and (next_retry_at is None or next_retry_at <= now)
    )


@dataclass(frozen=True)
class DerivedStatus:
    """The task's execution summary computed from its steps (reference §3.3)."""

    execution_status: str
    recommended_action: str
    health_status: str
    completed_steps: int
    total_steps: int
    completion_percentage: float


def derive_status(step_states: Iterable[str], ready_steps: int) -> DerivedStatus:
    """Derived status from every created step's state and the number of ready steps."""
    states = list(step_states)
    total = len(states)
    completed = sum(1 for state in states if state in SATISFYING_STEP_STATES)
    in_error = any(state == StepState.ERROR for state in states)
    processing = any(state in PROCESSING_STEP_STATES for state in states)
    if in_error:
        execution, action = "blocked_by_failures", "handle_failures"
    elif ready_steps > 0:
        execution, action = "has_ready_steps", "execute_ready_steps"
    elif processing:
        execution, action = "processing", "wait_for_completion"
    elif total > 0 and completed == total:
        execution, action = "all_complete", "finalize_task"
    else:
        execution, action = "waiting_for_dependencies", "wait_for_dependencies"
    if in_error:
        health = "blocked"
    elif any(state in RECOVERING_STEP_STATES for state in states):
        health = "recovering"
    else:
        health = "healthy"
    percentage = round(completed / total * 100, 2) if total else 0.0
    return DerivedStatus(
        execution_status=execution,
        recommended_action=action,
        health_status=health,
        completed_steps=completed,
        total_steps=total,
        completion_percentage=percentage,
    )

"""The event sequences that take a task or a step from where it rests to where the engine needs it.

Each path is a tuple of events that the state machines of :mod:`tasker_ctl.states` accept in
order; the engine commits a path in one transaction.
"""

from __future__ import annotations

from tasker_ctl.states import STEP_TERMINAL, StepEvent, StepState, TaskEvent, TaskState

# How a task that is not yet running gets to ``steps_in_process`` (events, in order).
TO_RUNNING: dict[str, tuple[TaskEvent, ...]] = {
    TaskState.PENDING: (TaskEvent.START, TaskEvent.READY_STEPS_FOUND, TaskEvent.STEPS_ENQUEUED),
    TaskState.INITIALIZING: (TaskEvent.READY_STEPS_FOUND, TaskEvent.STEPS_ENQUEUED),
    TaskState.ENQUEUING_STEPS: (TaskEvent.STEPS_ENQUEUED,),
    TaskState.EVALUATING_RESULTS: (TaskEvent.READY_STEPS_FOUND, TaskEvent.STEPS_ENQUEUED),
    TaskState.WAITING_FOR_DEPENDENCIES: (
        TaskEvent.DEPENDENCIES_READY,
        TaskEvent.READY_STEPS_FOUND,
        TaskEvent.STEPS_ENQUEUED,
    ),
    TaskState.WAITING_FOR_RETRY: (TaskEvent.RETRY_READY, TaskEvent.STEPS_ENQUEUED),
    TaskState.STEPS_IN_PROCESS: (),
}
REOPEN = (TaskEvent.RESET, *TO_RUNNING[TaskState.PENDING])
FINISH_COMPLETE = (TaskEvent.ALL_STEPS_COMPLETED, TaskEvent.ALL_STEPS_SUCCESSFUL)
FINISH_BLOCKED = (TaskEvent.ALL_STEPS_COMPLETED, TaskEvent.PERMANENT_FAILURE)

# What takes a step from where it rests to in_progress.
TO_IN_PROGRESS: dict[str, tuple[StepEvent, ...]] = {
    StepState.WAITING_FOR_RETRY: (StepEvent.RETRY, StepEvent.ENQUEUE, StepEvent.START),
    StepState.PENDING: (StepEvent.ENQUEUE, StepEvent.START),
    StepState.ENQUEUED: (StepEvent.START,),
    # A run that was killed left these behind: the attempt is made again (at-least-once).
    StepState.IN_PROGRESS: (
        StepEvent.WAIT_FOR_RETRY,
        StepEvent.RETRY,
        StepEvent.ENQUEUE,
        StepEvent.START,
    ),
}
# Where a step stays for the whole run: a terminal state, or failed for good.
RESTING_STEP_STATES = STEP_TERMINAL | {StepState.ERROR}
FAILED_STATES = frozenset(
    {StepState.ENQUEUED_AS_ERROR_FOR_ORCHESTRATION, StepState.ERROR, StepState.WAITING_FOR_RETRY}
)

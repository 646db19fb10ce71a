"""The task and step state machines and the derived task status (reference §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tasker_ctl.errors import EXIT_FAILURE
from tasker_ctl.states import (
    STEP_MACHINE,
    TASK_MACHINE,
    InvalidTransitionError,
    StepEvent,
    StepState,
    TaskEvent,
    TaskState,
    check_transition,
    derive_status,
    retry_eligible,
    step_is_ready,
)


def test_state_names_are_the_reference_names() -> None:
    assert [s.value for s in TaskState] == [
        "pending",
        "initializing",
        "enqueuing_steps",
        "steps_in_process",
        "evaluating_results",
        "waiting_for_dependencies",
        "waiting_for_retry",
        "blocked_by_failures",
        "complete",
        "error",
        "cancelled",
        "resolved_manually",
    ]
    assert [s.value for s in StepState] == [
        "pending",
        "enqueued",
        "in_progress",
        "enqueued_for_orchestration",
        "enqueued_as_error_for_orchestration",
        "waiting_for_retry",
        "complete",
        "error",
        "cancelled",
        "resolved_manually",
    ]


def test_legacy_in_progress_task_state_parses_as_steps_in_process() -> None:
    assert TaskState.parse("in_progress") is TaskState.STEPS_IN_PROCESS


@pytest.mark.parametrize(
    ("from_state", "event", "to_state"),
    [
        ("pending", "enqueue", "enqueued"),
        ("enqueued", "start", "in_progress"),
        ("in_progress", "enqueue_for_orchestration", "enqueued_for_orchestration"),
        (
            "in_progress",
            "enqueue_as_error_for_orchestration",
            "enqueued_as_error_for_orchestration",
        ),
        ("enqueued_for_orchestration", "complete", "complete"),
        ("enqueued_for_orchestration", "fail", "error"),
        ("enqueued_as_error_for_orchestration", "wait_for_retry", "waiting_for_retry"),
        ("enqueued_as_error_for_orchestration", "fail", "error"),
        ("waiting_for_retry", "retry", "pending"),
        ("error", "reset_for_retry", "pending"),
        ("error", "resolve_manually", "resolved_manually"),
        ("error", "complete_manually", "complete"),
        ("error", "cancel", "cancelled"),
        ("in_progress", "resolve_manually", "resolved_manually"),
        ("pending", "cancel", "cancelled"),
    ],
)
def test_step_transitions_of_the_reference(from_state: str, event: str, to_state: str) -> None:
    assert check_transition(STEP_MACHINE, from_state, event) == to_state


def test_a_step_in_error_is_terminal_for_automatic_retry() -> None:
    with pytest.raises(InvalidTransitionError) as caught:
        check_transition(STEP_MACHINE, StepState.ERROR, StepEvent.RETRY)
    assert caught.value.exit_code == EXIT_FAILURE


@pytest.mark.parametrize("terminal", ["complete", "cancelled", "resolved_manually"])
def test_terminal_steps_refuse_automatic_events(terminal: str) -> None:
    with pytest.raises(
        InvalidTransitionError, match=f"Cannot transition from terminal state '{terminal}'"
    ):
        check_transition(STEP_MACHINE, terminal, StepEvent.ENQUEUE)


@pytest.mark.parametrize("event", ["resolve_manually", "complete_manually"])
def test_manual_resolution_of_a_finished_step_uses_the_reference_message(event: str) -> None:
    with pytest.raises(InvalidTransitionError) as caught:
        check_transition(STEP_MACHINE, "complete", event)
    assert caught.value.message == (
        f"Cannot manually resolve step: invalid transition from complete to {event}"
    )


@pytest.mark.parametrize("state", ["pending", "in_progress", "waiting_for_retry", "complete"])
def test_reset_step_works_only_from_error(state: str) -> None:
    with pytest.raises(InvalidTransitionError, match="only a step in error can be reset"):
        check_transition(STEP_MACHINE, state, StepEvent.RESET_FOR_RETRY)


def test_an_invalid_non_terminal_step_move_names_state_and_event() -> None:
    with pytest.raises(InvalidTransitionError) as caught:
        check_transition(STEP_MACHINE, "pending", "complete")
    assert caught.value.message == "Invalid step transition from pending on event complete"
    assert caught.value.hint is not None
    assert "enqueue" in caught.value.hint


@pytest.mark.parametrize(
    ("from_state", "event", "to_state"),
    [
        ("pending", "start", "initializing"),
        ("initializing", "ready_steps_found", "enqueuing_steps"),
        ("initializing", "no_steps_found", "complete"),
        ("enqueuing_steps", "steps_enqueued", "steps_in_process"),
        ("steps_in_process", "step_completed", "evaluating_results"),
        ("evaluating_results", "all_steps_successful", "complete"),
        ("evaluating_results", "permanent_failure", "blocked_by_failures"),
        ("evaluating_results", "no_dependencies_ready", "waiting_for_dependencies"),
        ("waiting_for_dependencies", "dependencies_ready", "evaluating_results"),
        ("waiting_for_retry", "retry_ready", "enqueuing_steps"),
        ("blocked_by_failures", "give_up", "error"),
        ("blocked_by_failures", "manual_resolution", "resolved_manually"),
        ("waiting_for_dependencies", "cancel", "cancelled"),
        ("error", "reset", "pending"),
        ("blocked_by_failures", "reset", "pending"),
    ],
)
def test_task_transitions(from_state: str, event: str, to_state: str) -> None:
    assert check_transition(TASK_MACHINE, from_state, event) == to_state


@pytest.mark.parametrize("terminal", ["complete", "error", "cancelled", "resolved_manually"])
def test_cancelling_a_finished_task_is_refused(terminal: str) -> None:
    with pytest.raises(InvalidTransitionError, match=r"^Cannot cancel a completed task$"):
        check_transition(TASK_MACHINE, terminal, TaskEvent.CANCEL)


def test_a_complete_task_cannot_be_reopened() -> None:
    with pytest.raises(InvalidTransitionError, match="terminal state 'complete'"):
        check_transition(TASK_MACHINE, TaskState.COMPLETE, TaskEvent.RESET)


def test_every_table_entry_names_known_states_and_events() -> None:
    for machine, events in ((TASK_MACHINE, set(TaskEvent)), (STEP_MACHINE, set(StepEvent))):
        for (source, event), target in machine.transitions.items():
            assert source in machine.states
            assert target in machine.states
            assert event in events


def test_retry_eligibility_follows_the_reference() -> None:
    assert retry_eligible(attempts=0, max_attempts=0, retryable=False)
    assert retry_eligible(attempts=2, max_attempts=3, retryable=True)
    assert not retry_eligible(attempts=3, max_attempts=3, retryable=True)
    assert not retry_eligible(attempts=1, max_attempts=3, retryable=False)
    assert retry_eligible(attempts=2, max_attempts=None, retryable=None)


def test_readiness_waits_for_parents_and_backoff() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    common = {"attempts": 1, "max_attempts": 3, "retryable": True, "now": now}
    assert step_is_ready(
        state="waiting_for_retry", dependencies_satisfied=True, next_retry_at=None, **common
    )
    assert not step_is_ready(
        state="waiting_for_retry",
        dependencies_satisfied=True,
        next_retry_at=now + timedelta(seconds=1),
        **common,
    )
    assert not step_is_ready(
        state="pending", dependencies_satisfied=False, next_retry_at=None, **common
    )
    assert not step_is_ready(
        state="in_progress", dependencies_satisfied=True, next_retry_at=None, **common
    )


def test_derived_status_ladder() -> None:
    blocked = derive_status(["complete", "error", "pending"], ready_steps=1)
    assert (blocked.execution_status, blocked.recommended_action, blocked.health_status) == (
        "blocked_by_failures",
        "handle_failures",
        "blocked",
    )
    ready = derive_status(["complete", "pending"], ready_steps=1)
    assert (ready.execution_status, ready.recommended_action) == (
        "has_ready_steps",
        "execute_ready_steps",
    )
    running = derive_status(["in_progress", "waiting_for_retry"], ready_steps=0)
    assert (running.execution_status, running.health_status) == ("processing", "recovering")
    done = derive_status(["complete", "resolved_manually"], ready_steps=0)
    assert (done.execution_status, done.recommended_action) == ("all_complete", "finalize_task")
    assert done.completion_percentage == 100.0
    waiting = derive_status(["pending"], ready_steps=0)
    assert waiting.execution_status == "waiting_for_dependencies"
    assert waiting.health_status == "healthy"


def test_completion_percentage_rounds_to_two_places_and_is_zero_without_steps() -> None:
    assert derive_status(["complete", "pending", "pending"], 0).completion_percentage == 33.33
    assert derive_status([], 0).completion_percentage == 0.0

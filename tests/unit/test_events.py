"""Engine events: JSON form, and the bus that detaches an observer that raises."""

from __future__ import annotations

import json

from tasker_ctl.engine.events import (
    ErrorInfo,
    Event,
    EventBus,
    RunFinished,
    StepTransitioned,
    TaskTransitioned,
    event_to_json,
)

STEP_FAILED = StepTransitioned(
    task_uuid="t",
    step_uuid="s",
    step_name="charge",
    from_state="enqueued_as_error_for_orchestration",
    to_state="waiting_for_retry",
    event="wait_for_retry",
    attempt=1,
    max_attempts=3,
    at="2026-11-22T12:00:00.000Z",
    error=ErrorInfo("gateway down", "retryable_error", "GATEWAY_ERROR", retryable=True),
    next_retry_at="2026-11-22T12:00:00.100Z",
    delay_ms=100,
)
TASK_MOVED = TaskTransitioned("t", "pending", "initializing", "start", "2026-11-22T12:00:00.000Z")


def test_event_to_json_names_the_type_in_snake_case_and_nests_the_error() -> None:
    data = event_to_json(STEP_FAILED)
    assert data["type"] == "step_transitioned"
    assert data["error"] == {
        "message": "gateway down",
        "error_type": "retryable_error",
        "error_code": "GATEWAY_ERROR",
        "retryable": True,
        "exception_type": None,
        "file": None,
        "line": None,
    }
    assert data["delay_ms"] == 100
    assert json.loads(json.dumps(data)) == data
    finished = RunFinished("t", "complete", 12, 3, 0, 0, False, "2026-11-22T12:00:01.000Z")
    assert event_to_json(finished)["type"] == "run_finished"
    assert event_to_json(TASK_MOVED)["type"] == "task_transitioned"


def test_observers_get_every_event_in_order() -> None:
    first: list[Event] = []
    second: list[Event] = []
    bus = EventBus([first.append])
    bus.subscribe(second.append)

    bus.emit(TASK_MOVED)
    bus.emit(STEP_FAILED)

    assert first == second == [TASK_MOVED, STEP_FAILED]
    assert bus.failures == []


def test_an_observer_that_raises_is_detached_and_its_error_kept() -> None:
    calls: list[Event] = []
    healthy: list[Event] = []

    def broken(event: Event) -> None:
        calls.append(event)
        raise RuntimeError("terminal went away")

    bus = EventBus([broken, healthy.append])
    bus.emit(TASK_MOVED)
    bus.emit(STEP_FAILED)

    assert calls == [TASK_MOVED]
    assert healthy == [TASK_MOVED, STEP_FAILED]
    ((observer, error),) = bus.failures
    assert observer is broken
    assert isinstance(error, RuntimeError)
    assert str(error) == "terminal went away"

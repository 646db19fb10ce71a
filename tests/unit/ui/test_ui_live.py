"""The live run view and the run summary, rendered on a fixed-width colourless console."""

from __future__ import annotations

import io

from rich.console import Console

from tasker_ctl.engine.events import (
    ErrorInfo,
    RunFinished,
    RunStarted,
    StepSnapshot,
    StepTransitioned,
)
from tasker_ctl.ui.live import LiveRunView
from tasker_ctl.ui.run_lines import RunLog

AT = "2026-01-01T00:00:00.000Z"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def started() -> RunStarted:
    steps = tuple(
        StepSnapshot(name, "pending", 0, attempts)
        for name, attempts in (("fetch", 3), ("parse", 4), ("merge", 3))
    )
    return RunStarted("t-1", "demo", "ns", "1.0.0", 3, 0, AT, steps)


def moved(name: str, to: str, attempt: int, **extra: object) -> StepTransitioned:
    return StepTransitioned(
        "t-1",
        f"u-{name}",
        name,
        None,
        to,
        "event",
        attempt,
        4 if name == "parse" else 3,
        AT,
        **extra,  # type: ignore[arg-type]
    )


def render(view: LiveRunView) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None, record=True)
    console.print(view.render())
    return console.export_text()


def test_live_rows_show_state_attempt_time_countdown_and_error() -> None:
    clock = FakeClock()
    view = LiveRunView(Console(file=io.StringIO()), clock=clock)
    view._apply(started())
    view._apply(moved("fetch", "in_progress", 1))
    clock.now += 1.25
    view._apply(moved("fetch", "complete", 1))
    view._apply(moved("parse", "in_progress", 1))
    clock.now += 0.5
    error = ErrorInfo("upstream timed out", "retryable_error", "E_UP", True)
    view._apply(moved("parse", "waiting_for_retry", 1, error=error, delay_ms=3000))
    clock.now += 1.0

    # Without colour, the bar's unfilled part is blank: 10 of 30 cells for 1 of 3 steps.
    assert [line.rstrip() for line in render(view).splitlines()] == [
        "ns/demo v1.0.0 ━━━━━━━━━━                     1/3 steps  2.8s",
        "✓ fetch 1.2s",
        "  step     state         attempt    time    next retry    last error",
        "  parse    ↻ retrying    1/4        1.5s    in 2.0s       upstream timed out (retryable_error,",
        "                                                          E_UP)",
        "  merge    ○ pending",
    ]


def test_summary_names_outcome_duration_and_failed_steps() -> None:
    log = RunLog(stream=io.StringIO(), echo=False)
    log(started())
    error = ErrorInfo("Payment declined", "permanent_error", "PAYMENT_DECLINED", False)
    log(moved("parse", "error", 1, error=error))
    log(RunFinished("t-1", "blocked_by_failures", 1234, 1, 1, 1, False, AT))

    assert log.summary() == [
        "✗ Task ns/demo v1.0.0 blocked_by_failures: 1/3 steps complete, 1 failed, 1 not run (1.23s)",
        "  ✗ parse: Payment declined (permanent_error, PAYMENT_DECLINED)",
    ]


def test_plain_lines_are_one_per_transition_without_escapes() -> None:
    stream = io.StringIO()
    log = RunLog(stream=stream)
    log(started())
    log(moved("fetch", "in_progress", 1))
    log(moved("fetch", "complete", 1))

    lines = stream.getvalue().splitlines()
    assert lines[1] == f"{AT} step fetch: None -> in_progress (attempt 1/3)"
    assert lines[2] == f"{AT} step fetch: None -> complete"
    assert "\x1b" not in stream.getvalue()

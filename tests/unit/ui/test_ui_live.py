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


def render(view: LiveRunView) -> list[str]:
    view.console.print(view.render())
    return [line.rstrip() for line in view.console.export_text().splitlines()]


def fixed_console(width: int, height: int) -> Console:
    return Console(file=io.StringIO(), width=width, height=height, color_system=None, record=True)


def test_live_rows_show_state_attempt_time_countdown_and_error() -> None:
    clock = FakeClock()
    view = LiveRunView(fixed_console(100, 24), clock=clock)
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
    assert render(view) == [
        "ns/demo v1.0.0 ━━━━━━━━━━                     1/3 steps  2.8s",
        "✓ fetch 1.2s",
        "step   state       attempt  time  retry    last error",
        "parse  ↻ retrying  1/4      1.5s  in 2.0s  upstream timed out (retryable_error, E_UP)",
        "merge  ○ pending",
    ]


def many_steps(console: Console) -> LiveRunView:
    """150 steps: 60 done, 10 running, one waiting to retry after a long error, the rest pending."""
    clock = FakeClock()
    view = LiveRunView(console, clock=clock)
    steps = tuple(StepSnapshot(f"step_{i:03d}", "pending", 0, 3) for i in range(150))
    view._apply(RunStarted("t-1", "order_processing", "ecommerce", "1.0.0", 150, 0, AT, steps))
    for i in range(60):
        view._apply(moved(f"step_{i:03d}", "in_progress", 1))
        clock.now += 0.1
        view._apply(moved(f"step_{i:03d}", "complete", 1))
    for i in range(60, 70):
        view._apply(moved(f"step_{i:03d}", "in_progress", 1))
    error = ErrorInfo(
        "the remote service answered 503 " * 4, "handler_error", None, True, "IOError"
    )
    view._apply(moved("step_070", "waiting_for_retry", 1, error=error, delay_ms=3000))
    return view


def test_live_view_of_150_steps_fits_80_by_24() -> None:
    lines = render(many_steps(fixed_console(80, 24)))

    assert len(lines) <= 23 and max(map(len, lines)) <= 80
    assert lines[:4] == [
        "ecommerce/order_processing v1.0.0 ━━━━━━━━━━╸                 60/150 steps  6.0s",
        "✓ 60 done: step_000 0.1s · step_001 0.1s · step_002 0.1s · step_003 0.1s · step…",
        "step      state       attempt  time  retry    last error",
        "step_060  ● running   1/3      0.0s",
    ]
    assert lines[13] == (
        "step_070  ↻ retrying  1/3      6.0s  in 3.0s  IOError: the remote service answe…"
    )
    assert lines[-1] == "… 71 more steps (71 pending)"


def test_live_view_of_150_steps_fits_120_by_12() -> None:
    lines = render(many_steps(fixed_console(120, 12)))

    assert len(lines) <= 11 and max(map(len, lines)) <= 120
    assert lines[2:] == [
        "step      state       attempt  time  retry    last error",
        "step_060  ● running   1/3      0.0s",
        "step_061  ● running   1/3      0.0s",
        "step_062  ● running   1/3      0.0s",
        "step_063  ● running   1/3      0.0s",
        "step_064  ● running   1/3      0.0s",
        "step_065  ● running   1/3      0.0s",
        "step_070  ↻ retrying  1/3      6.0s  in 3.0s  "
        "IOError: the remote service answered 503 the remote service answered 503 …",
        "… 83 more steps (4 running, 79 pending)",
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

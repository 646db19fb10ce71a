"""The watch loop and its phases: a task's views in turn, a fixed-width console, no sleeping."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console
from rich.text import Text

from tasker_ctl.errors import EXIT_FAILURE, EXIT_OK
from tasker_ctl.tasks.views import RunView, StepView, TaskView
from tasker_ctl.tasks.watch import WatchPhase, retry_in_seconds, watch_exit_code, watch_phase
from tasker_ctl.ui.watch import watch_task

UUID = "3f1c9e0a-0000-4000-8000-000000000001"
AT = "2026-01-01T00:00:00.000Z"


def step(state: str, next_retry_at: str | None = None) -> StepView:
    return StepView(
        name="fetch",
        step_uuid="s-1",
        step_type="standard",
        state=state,
        attempts=1,
        max_attempts=3,
        retryable=True,
        dependencies=(),
        dependencies_satisfied=True,
        ready=False,
        retry_eligible=True,
        handler_callable="h.fetch",
        timeout_seconds=None,
        next_retry_at=next_retry_at,
        backoff_ms=None,
        created_at=AT,
        started_at=AT,
        completed_at=None,
        result=None,
        error=None,
    )


def task(status: str, run: str = "none", pid: int | None = None) -> TaskView:
    return TaskView(
        task_uuid=UUID,
        name="demo",
        namespace="ns",
        version="1.0.0",
        status=status,
        execution_status="",
        health_status="healthy",
        recommended_action="",
        completed_steps=0,
        total_steps=1,
        completion_percentage=0.0,
        created_at=AT,
        updated_at=AT,
        completed_at=None,
        correlation_id=None,
        initiator=None,
        reason=None,
        input={},
        steps=(step("pending"),),
        edges=(),
        run=RunView(run, pid=pid),
    )


@pytest.mark.parametrize(
    ("status", "run", "phase"),
    [
        ("pending", "none", WatchPhase.WAITING),
        ("pending", "running", WatchPhase.RUNNING),
        ("steps_in_process", "running", WatchPhase.RUNNING),
        ("steps_in_process", "interrupted", WatchPhase.RUN_GONE),
        ("steps_in_process", "none", WatchPhase.RUNNING),  # a server's task: it has no lease
        ("complete", "none", WatchPhase.ENDED),
        ("blocked_by_failures", "none", WatchPhase.ENDED),
        ("cancelled", "running", WatchPhase.ENDED),
    ],
)
def test_phases(status: str, run: str, phase: WatchPhase) -> None:
    assert watch_phase(task(status, run)) is phase


@pytest.mark.parametrize(
    ("status", "run", "strict_code"),
    [
        ("complete", "none", EXIT_OK),
        ("resolved_manually", "none", EXIT_OK),
        ("blocked_by_failures", "none", EXIT_FAILURE),
        ("cancelled", "none", EXIT_FAILURE),
        ("error", "none", EXIT_FAILURE),
        ("steps_in_process", "interrupted", EXIT_FAILURE),
    ],
)
def test_exit_codes(status: str, run: str, strict_code: int) -> None:
    view = task(status, run)
    assert watch_exit_code(view, exit_status=False) == EXIT_OK
    assert watch_exit_code(view, exit_status=True) == strict_code


def test_retry_countdown_seconds() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_in_seconds(step("waiting_for_retry", "2026-01-01T00:00:03.000Z"), now) == 3.0
    assert retry_in_seconds(step("waiting_for_retry", "2025-12-31T23:59:00.000Z"), now) == 0.0
    assert retry_in_seconds(step("waiting_for_retry", None), now) is None
    assert retry_in_seconds(step("error", "2026-01-01T00:00:03.000Z"), now) is None


def run_watch(views: list[TaskView], profile: str | None = None) -> tuple[TaskView, str, int]:
    """Watch ``views`` in turn (each frame is the task's status); output and sleeps taken."""
    out = Console(file=io.StringIO(), width=80, color_system=None, force_terminal=False)
    remaining = iter(views[1:])
    sleeps: list[float] = []
    last = watch_task(
        views[0],
        lambda: next(remaining),
        lambda view: Text(f"frame: {view.status} (run {view.run.state})"),
        out,
        interval=0.5,
        sleep=sleeps.append,
        profile=profile,
    )
    assert sleeps == [0.5] * (len(views) - 1)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    return last, text, len(sleeps)


def test_a_waiting_watch_says_so_and_follows_the_run_to_its_end() -> None:
    views = [
        task("pending"),
        task("pending"),
        task("steps_in_process", "running", pid=42),
        task("complete"),
    ]
    last, text, _ = run_watch(views)
    assert last.status == "complete"
    assert text == (
        "Waiting for a run to start; Ctrl-C stops watching.\n"
        f"  start one with: tasker-ctl task run {UUID}\n"
        "frame: complete (run none)\n"
    )


def test_a_server_task_waits_for_the_server() -> None:
    _, text, _ = run_watch([task("pending"), task("blocked_by_failures")], profile="fake")
    assert text == (
        "Waiting for the server to start the task; Ctrl-C stops watching.\n"
        "  the server of profile: fake\n"
        "frame: blocked_by_failures (run none)\n"
    )


def test_a_dead_run_ends_the_watch_with_what_to_do() -> None:
    views = [task("steps_in_process", "running", pid=42), task("steps_in_process", "interrupted")]
    views[1] = views[1]._replace(run=RunView("interrupted", pid=42))
    _, text, sleeps = run_watch(views)
    assert sleeps == 1
    assert text == (
        "frame: steps_in_process (run interrupted)\n"
        "Its run (process 42) ended before the task came to rest: stopped watching.\n"
        f"  resume with: tasker-ctl task run {UUID}\n"
    )


def test_a_task_at_rest_is_shown_once() -> None:
    _, text, sleeps = run_watch([task("complete")])
    assert (text, sleeps) == ("frame: complete (run none)\n", 0)

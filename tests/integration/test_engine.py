"""The local engine in-process on real SQLite files and real handler modules on disk.

Each test writes a small template whose steps use ``tests/fixtures/engine_handlers/probes.py``,
creates a task with ``tasker_ctl.tasks.create_task`` and runs it with ``run_task``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engine_handlers import probes
from engine_handlers.workflows import (
    StepSpec,
    create,
    stored_attempts,
    stored_steps,
    stored_transitions,
    write_template,
)

from tasker_ctl.engine.events import (
    Event,
    RunFinished,
    RunStarted,
    StepTransitioned,
)
from tasker_ctl.engine.scheduler import RunOptions, RunResult
from tasker_ctl.handlers.preflight import HandlersUnloadableError
from tasker_ctl.store.connection import parse_timestamp
from tasker_ctl.tasks.actions import reset_step
from tasker_ctl.tasks.run import run_task


@dataclass
class Workflow:
    """A task created from a template written for one test."""

    db: Path
    task_uuid: str

    def run(self, *observers: Any, concurrency: int = 4) -> tuple[RunResult, list[Event]]:
        events: list[Event] = []
        result = run_task(
            self.db,
            self.task_uuid,
            observers=[events.append, *observers],
            options=RunOptions(concurrency=concurrency),
        )
        return result, events

    def steps(self) -> dict[str, Any]:
        return stored_steps(self.db, self.task_uuid)

    def step(self, name: str) -> Any:
        return self.steps()[name]

    def attempts(self, name: str) -> list[Any]:
        return stored_attempts(self.db, self.step(name).uuid)

    def executions(self) -> list[tuple[str, str, int]]:
        return probes.EXECUTIONS.get(self.task_uuid, [])


def _workflow(tmp_path: Path, steps: Sequence[StepSpec], **task_input: Any) -> Workflow:
    write_template(tmp_path / "templates", "wf", steps)
    db = tmp_path / "tasker.db"
    return Workflow(db, create(db, tmp_path / "templates", "wf", task_input))


def _delays(events: list[Event]) -> list[int | None]:
    return [
        e.delay_ms
        for e in events
        if isinstance(e, StepTransitioned) and e.to_state == "waiting_for_retry"
    ]


def test_retryable_false_makes_the_first_failure_permanent(tmp_path: Path) -> None:
    wf = _workflow(
        tmp_path,
        [StepSpec("once", "flaky", config={"failures": 5}, retry={"retryable": False})],
    )

    result, events = wf.run()

    assert result.status == "blocked_by_failures"
    step = wf.step("once")
    assert (step.state, step.attempts) == ("error", 1)
    assert len(wf.attempts("once")) == 1
    assert _delays(events) == []


def test_retryable_failures_are_retried_until_they_succeed(tmp_path: Path) -> None:
    wf = _workflow(tmp_path, [StepSpec("twice", "flaky", config={"failures": 2})])

    result, events = wf.run()

    assert result.succeeded
    assert wf.step("twice").result == {"succeeded_on_attempt": 3}
    assert [a.success for a in wf.attempts("twice")] == [False, False, True]
    assert _delays(events) == [0, 0]  # backoff: none


def test_permanent_error_from_a_class_handler_is_not_retried(tmp_path: Path) -> None:
    wf = _workflow(
        tmp_path, [StepSpec("refuse", "engine_handlers.probes.RefusingHandler")], journal=""
    )

    result, _ = wf.run()

    assert result.status == "blocked_by_failures"
    step = wf.step("refuse")
    assert (step.state, step.attempts) == ("error", 1)
    assert step.error["retryable"] is False
    assert step.error["error_code"] == "ACCOUNT_CLOSED"
    assert [kind for kind, _, _ in wf.executions()] == ["start"]


@pytest.mark.parametrize("via", ["exception", "metadata"])
def test_a_delay_the_handler_asks_for_wins_over_the_backoff_formula(
    tmp_path: Path, via: str
) -> None:
    retry = {"backoff": "exponential", "backoff_base_ms": 10, "max_backoff_ms": 20}
    wf = _workflow(
        tmp_path,
        [StepSpec("wait", "asks_to_wait", config={"retry_after": 0.25, "via": via}, retry=retry)],
    )

    result, events = wf.run()

    assert result.succeeded
    assert _delays(events) == [250]  # not min(10·2⁰, 20) = 10, nor capped at 20
    step = wf.step("wait")
    rows = stored_transitions(wf.db, wf.task_uuid, step.uuid)
    failed = next(r.created_at for r in rows if r.to_state == "waiting_for_retry")
    restarted = [r.created_at for r in rows if r.to_state == "in_progress"][1]
    gap = parse_timestamp(restarted) - parse_timestamp(failed)
    assert gap.total_seconds() >= 0.25


def test_a_step_over_its_timeout_fails_retryably_and_is_retried(tmp_path: Path) -> None:
    wf = _workflow(
        tmp_path,
        [
            StepSpec(
                "slow",
                "sleepy",
                config={"first_attempt_seconds": 3},
                retry={"max_attempts": 2},
                timeout_seconds=1,
            )
        ],
    )

    result, _ = wf.run()

    assert result.succeeded, wf.step("slow").error
    first, second = wf.attempts("slow")
    assert first.success is False
    assert first.error["error_type"] == "timeout"
    assert first.error["retryable"] is True
    assert second.success is True
    assert wf.step("slow").result == {"attempt": 2}


def test_a_hung_handler_costs_no_capacity_and_its_retry_runs(tmp_path: Path) -> None:
    """With one worker, the retry of a step whose first attempt hangs past its timeout runs on
    a thread that replaces the abandoned one (before: it waited behind the hung handler and was
    recorded as a second timeout without ever running)."""
    step = StepSpec("hangs", "hangs_first_attempt", retry={"max_attempts": 2}, timeout_seconds=1)
    wf = _workflow(tmp_path, [step])
    probes.HUNG_RELEASE.clear()
    try:
        result, _ = wf.run(concurrency=1)
    finally:
        probes.HUNG_RELEASE.set()

    assert result.succeeded, wf.step("hangs").error
    first, second = wf.attempts("hangs")
    assert (first.success, first.error["error_type"]) == (False, "timeout")
    assert (second.success, wf.step("hangs").result) == (True, {"attempt": 2})
    assert [name for kind, name, _ in wf.executions() if kind == "start"] == ["hangs", "hangs"]


def test_a_result_that_is_not_json_fails_the_step_clearly(tmp_path: Path) -> None:
    wf = _workflow(tmp_path, [StepSpec("bad_result", "not_json")])

    result, _ = wf.run()

    assert result.status == "blocked_by_failures"
    step = wf.step("bad_result")
    assert (step.state, step.attempts) == ("error", 1)
    assert step.error["error_type"] == "result_not_serializable"
    assert "result['at']" in step.error["message"]
    assert "datetime" in step.error["message"]


def test_async_call_handlers_run(tmp_path: Path) -> None:
    wf = _workflow(tmp_path, [StepSpec("awaits", "engine_handlers.probes.AsyncHandler")])

    result, _ = wf.run()

    assert result.succeeded
    assert wf.step("awaits").result["async"] is True


def test_a_handler_that_cannot_be_resolved_stops_the_run_naming_the_callable(
    tmp_path: Path,
) -> None:
    missing = "engine_handlers.probes.NoSuchHandler"
    wf = _workflow(tmp_path, [StepSpec("ghost", missing), StepSpec("after", depends_on=["ghost"])])
    before = stored_transitions(wf.db, wf.task_uuid)

    with pytest.raises(HandlersUnloadableError) as raised:
        wf.run()

    assert raised.value.exit_code == 78
    assert [(p.subject, p.steps) for p in raised.value.problems] == [(missing, ("ghost",))]
    assert "handler_not_found" not in raised.value.message
    assert f"handler '{missing}' not found" in raised.value.message
    assert {name: step.state for name, step in wf.steps().items()} == {
        "ghost": "pending",
        "after": "pending",
    }
    assert stored_transitions(wf.db, wf.task_uuid) == before


def test_a_missing_handler_of_many_steps_is_one_line_naming_a_few_of_them(
    tmp_path: Path,
) -> None:
    missing = "engine_handlers.probes.no_such_handler"
    wf = _workflow(tmp_path, [StepSpec(f"s{i:02d}", missing) for i in range(12)])

    with pytest.raises(HandlersUnloadableError) as raised:
        wf.run()

    assert raised.value.problems[0].steps == tuple(f"s{i:02d}" for i in range(12))
    problem_line = raised.value.message.splitlines()[1]
    assert "s00, s01, s02, s03, s04 and 7 more" in problem_line
    assert "s05" not in problem_line


def test_a_permanent_failure_blocks_only_its_dependents_and_a_reset_resumes(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    wf = _workflow(
        tmp_path,
        [
            StepSpec("root"),
            StepSpec("guarded", "gated", depends_on=["root"]),
            StepSpec("after_guarded", depends_on=["guarded"]),
            StepSpec("branch", depends_on=["root"], config={"sleep_ms": 30}),
            StepSpec("branch_end", depends_on=["branch"]),
        ],
        journal="",
        gate=str(gate),
    )

    first, _ = wf.run()

    assert first.status == "blocked_by_failures"
    assert (first.completed, first.failed, first.pending) == (3, 1, 1)
    states = {name: step.state for name, step in wf.steps().items()}
    assert states == {
        "root": "complete",
        "guarded": "error",
        "after_guarded": "pending",
        "branch": "complete",
        "branch_end": "complete",
    }
    results_before = {name: step.result for name, step in wf.steps().items()}

    gate.touch()
    reset_step(wf.db, wf.task_uuid, "guarded", reason="gate opened")
    second, _ = wf.run()

    assert second.status == "complete"
    starts = [name for kind, name, _ in wf.executions() if kind == "start"]
    assert sorted(starts) == sorted(
        ["root", "guarded", "branch", "branch_end", "guarded", "after_guarded"]
    )
    steps = wf.steps()
    for name in ("root", "branch", "branch_end"):
        assert steps[name].result == results_before[name]


def test_an_observer_that_raises_does_not_break_the_run(tmp_path: Path) -> None:
    wf = _workflow(tmp_path, [StepSpec("a"), StepSpec("b", depends_on=["a"])])
    seen_by_broken: list[Event] = []

    def broken(event: Event) -> None:
        seen_by_broken.append(event)
        if isinstance(event, StepTransitioned):
            raise ValueError("the progress display fell over")

    result, events = wf.run(broken)

    assert result.succeeded
    assert result.observer_errors == ("ValueError: the progress display fell over",)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert sum(isinstance(e, StepTransitioned) for e in seen_by_broken) == 1
    assert sum(isinstance(e, StepTransitioned) for e in events) > 1


def test_a_second_run_of_a_complete_task_runs_nothing(tmp_path: Path) -> None:
    wf = _workflow(tmp_path, [StepSpec("a"), StepSpec("b", depends_on=["a"])], journal="")
    wf.run()
    executions = list(wf.executions())

    result, events = wf.run()

    assert result.succeeded
    assert wf.executions() == executions
    assert not any(isinstance(e, StepTransitioned) for e in events)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert (started.step_count, started.finished_count) == (2, 2)


def test_dependency_results_reach_grandchildren(tmp_path: Path) -> None:
    wf = _workflow(
        tmp_path,
        [StepSpec("a"), StepSpec("b", depends_on=["a"]), StepSpec("c", depends_on=["b"])],
    )

    result, _ = wf.run()

    assert result.succeeded
    assert wf.step("c").result == {"step": "c", "attempt": 1}


def test_resume_runs_an_unfinished_step_whose_ready_sibling_already_finished(
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    wf = _workflow(
        tmp_path,
        [StepSpec("finished_root"), StepSpec("reset_root", "gated")],
        journal="",
        gate=str(gate),
    )
    first, _ = wf.run()
    assert (first.completed, first.failed) == (1, 1)

    gate.touch()
    reset_step(wf.db, wf.task_uuid, "reset_root", reason="gate opened")
    second, _ = wf.run()

    assert wf.step("reset_root").state == "complete"
    assert second.status == "complete"


def _idle_worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("tasker-step-")]


def test_a_finished_run_leaves_no_idle_worker_threads(tmp_path: Path) -> None:
    wf = _workflow(tmp_path, [StepSpec("a"), StepSpec("b", depends_on=["a"])])
    before = set(_idle_worker_threads())

    result, _ = wf.run(concurrency=6)

    assert result.succeeded
    deadline = time.monotonic() + 1.0
    while set(_idle_worker_threads()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not set(_idle_worker_threads()) - before

"""``tasker-ctl task run`` as a real subprocess: output formats, exit codes, Ctrl-C.

Tasks are created in-process (``create_task``); the run is the entry point under test.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from engine_handlers.workflows import (
    StepSpec,
    create,
    stored_steps,
    stored_transitions,
    write_template,
)
from held_runs import starts, wait_for
from subprocesses import REPO_ROOT, run_tasker_ctl, subprocess_env, tasker_ctl_command

DIAMOND = [
    StepSpec("start"),
    StepSpec("left", depends_on=["start"]),
    StepSpec("right", "flaky", depends_on=["start"], config={"failures": 1}),
    StepSpec("join", depends_on=["left", "right"]),
]


def _create(tmp_path: Path, steps: list[StepSpec], **task_input: str) -> tuple[Path, str]:
    write_template(tmp_path / "templates", "wf", steps)
    db = tmp_path / "tasker.db"
    return db, create(db, tmp_path / "templates", "wf", task_input)


def _run_cli(db: Path, task_uuid: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return run_tasker_ctl("task", "run", task_uuid, "--db", str(db), *flags)


def test_json_format_prints_one_event_per_line(tmp_path: Path) -> None:
    db, task_uuid = _create(tmp_path, DIAMOND)

    completed = _run_cli(db, task_uuid, "--format", "json")

    assert completed.returncode == 0, completed.stderr
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    kinds = [event["type"] for event in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert events[-1]["status"] == "complete"
    step_events = [e for e in events if e["type"] == "step_transitioned"]
    stored = [
        r for r in stored_transitions(db, task_uuid) if r.step_uuid and r.from_state is not None
    ]
    assert [(e["step_uuid"], e["to_state"]) for e in step_events] == [
        (r.step_uuid, r.to_state) for r in sorted(stored, key=lambda r: r.id)
    ]
    retry = next(e for e in step_events if e["to_state"] == "waiting_for_retry")
    assert retry["step_name"] == "right"
    assert retry["error"]["error_type"]
    assert retry["delay_ms"] == 0


def test_piped_text_has_no_escapes_and_one_line_per_transition(tmp_path: Path) -> None:
    db, task_uuid = _create(tmp_path, DIAMOND)

    completed = _run_cli(db, task_uuid)

    assert completed.returncode == 0, completed.stderr
    assert "\x1b" not in completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    step_lines = [line for line in lines if " step " in line]
    task_lines = [line for line in lines if " task: " in line]
    moved = [r for r in stored_transitions(db, task_uuid) if r.from_state is not None]
    assert len(step_lines) == sum(1 for r in moved if r.step_uuid)
    assert len(task_lines) == sum(1 for r in moved if r.step_uuid is None)
    assert any("right: in_progress -> enqueued_as_error_for_orchestration" in x for x in lines)
    summary = lines[lines.index(next(x for x in lines if x.startswith("✓ Task"))) :]
    assert "4/4 steps" in summary[0]


@pytest.mark.parametrize(
    ("flags", "running_line"),
    [
        (("--format", "json"), '"step_name": "slow", "from_state": "enqueued", "to_state": "in_'),
        ((), "step slow: enqueued -> in_progress"),
    ],
)
def test_piped_output_shows_a_step_starting_while_it_runs(
    tmp_path: Path, flags: tuple[str, ...], running_line: str
) -> None:
    journal = tmp_path / "journal.log"
    steps = [StepSpec("slow", config={"sleep_ms": 1500})]
    db, task_uuid = _create(tmp_path, steps, journal=str(journal))
    env = subprocess_env()
    env.pop("PYTHONUNBUFFERED", None)  # as in a user's shell: a pipe is block-buffered
    process = subprocess.Popen(
        tasker_ctl_command("task", "run", task_uuid, "--db", str(db), *flags),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:  # output is flushed per burst of events, not at exit
            if running_line in line:
                break
        ran = journal.read_text() if journal.exists() else ""
        assert "end slow" not in ran  # seen while the step still ran
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0


def test_ctrl_c_lets_the_running_step_finish_then_exits_130_and_resumes(tmp_path: Path) -> None:
    journal = tmp_path / "journal.log"
    steps = [
        StepSpec("first"),
        StepSpec("slow", depends_on=["first"], config={"sleep_ms": 1500}),
        StepSpec("last", depends_on=["slow"]),
    ]
    db, task_uuid = _create(tmp_path, steps, journal=str(journal))
    process = subprocess.Popen(
        tasker_ctl_command("task", "run", task_uuid, "--db", str(db)),
        cwd=REPO_ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: bool(starts(journal, "slow")), "the slow step to start")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "Interrupted" in stdout
    assert f"tasker-ctl task run {task_uuid}" in stdout
    states = {name: step.state for name, step in stored_steps(db, task_uuid).items()}
    assert states == {"first": "complete", "slow": "complete", "last": "pending"}
    assert [x.split()[:2] for x in journal.read_text().splitlines()] == [
        ["start", "first"],
        ["end", "first"],
        ["start", "slow"],
        ["end", "slow"],
    ]

    resumed = _run_cli(db, task_uuid)

    assert resumed.returncode == 0, resumed.stderr
    started = [x.split()[1] for x in journal.read_text().splitlines() if x.startswith("start")]
    assert started == ["first", "slow", "last"]
    assert all(step.state == "complete" for step in stored_steps(db, task_uuid).values())

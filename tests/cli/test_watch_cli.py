"""``task status --watch`` through the real CLI: waiting for a run to start, a dead run, the exit
status of an ended task, Ctrl-C, and the retry countdown; at 80 columns, exact where the output
does not depend on the clock (the frame is compared with ``task status`` printed just after).

Runs are real ``tasker-ctl`` processes; a held step (``probes.held``) keeps a run live for as
long as a test needs, and the heartbeat is 0.2 s so that a dead run is told at once.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from engine_handlers.workflows import StepSpec, create, write_template
from held_runs import HELD_THEN_NEXT, Workflow, finish, starts, wait_for
from subprocesses import REPO_ROOT, run_tasker_ctl, subprocess_env, tasker_ctl_command
from typer.testing import CliRunner

from tasker_ctl.cli import app
from tasker_ctl.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK

ENV = {"TASKER_CTL_HEARTBEAT_SECONDS": "0.2", "COLUMNS": "80"}
JOURNALED = [StepSpec("first"), StepSpec("second", depends_on=("first",))]


def waiting_lines(task_uuid: str) -> str:
    return (
        "Waiting for a run to start; Ctrl-C stops watching.\n"
        f"  start one with: tasker-ctl task run {task_uuid}\n"
    )


def tasker(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_tasker_ctl(*args, "--db", str(db), env=ENV)


def start_watch(db: Path, task_uuid: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        tasker_ctl_command("task", "status", task_uuid, "--watch", *extra, "--db", str(db)),
        cwd=REPO_ROOT,
        env=subprocess_env(**ENV),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_waiting_lines(watcher: subprocess.Popen[str]) -> str:
    """The first two lines the watcher prints (it blocks until they are there)."""
    assert watcher.stdout is not None
    return watcher.stdout.readline() + watcher.stdout.readline()


def status_text(db: Path, task_uuid: str, *extra: str) -> str:
    done = tasker(db, "task", "status", task_uuid, *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_task_that_never_ran_is_watched_until_a_run_starts_and_ends(tmp_path: Path) -> None:
    db, templates = tmp_path / "tasker.db", tmp_path / "templates"
    write_template(templates, "journaled", JOURNALED)
    task_uuid = create(db, templates, "journaled")
    document = json.loads(status_text(db, task_uuid, "--format", "json"))
    assert document["run"]["state"] == "none"  # not "interrupted": no run was ever started
    watcher = start_watch(db, task_uuid)
    first_lines = read_waiting_lines(watcher)
    assert first_lines == waiting_lines(task_uuid)
    assert watcher.poll() is None  # still waiting: nothing has run the task

    ran = tasker(db, "task", "run", task_uuid, "--quiet")
    assert ran.returncode == 0, ran.stderr
    code, rest, err = finish(watcher)

    assert (code, err) == (EXIT_OK, "")
    assert rest == status_text(db, task_uuid)  # the final frame: the DAG, every step complete
    assert "  Status: complete\n" in rest


def test_a_run_known_dead_is_said_and_the_watch_ends(tmp_path: Path) -> None:
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    task_uuid = flow.create()
    victim = flow.start("task", "run", task_uuid)
    wait_for(lambda: bool(starts(flow.journal, "first")), "the run's handler to start")
    victim.send_signal(signal.SIGKILL)
    victim.wait()

    watched = tasker(flow.db, "task", "status", task_uuid, "--watch", "--no-graph")
    gone = (
        f"Its run (process {victim.pid}) ended before the task came to rest: stopped watching.\n"
        f"  resume with: tasker-ctl task run {task_uuid}\n"
    )
    assert (watched.returncode, watched.stderr) == (EXIT_OK, "")
    assert watched.stdout == status_text(flow.db, task_uuid, "--no-graph") + gone
    strict = tasker(flow.db, "task", "status", task_uuid, "--watch", "--exit-status")
    assert strict.returncode == EXIT_FAILURE, strict.stderr
    assert strict.stdout.endswith(gone)


@pytest.mark.parametrize(
    ("ending", "exit_code"),
    [("complete", EXIT_OK), ("blocked_by_failures", EXIT_FAILURE), ("cancelled", EXIT_FAILURE)],
)
def test_exit_status_is_non_zero_when_the_task_ends_blocked_or_cancelled(
    tmp_path: Path, ending: str, exit_code: int
) -> None:
    db, templates = tmp_path / "tasker.db", tmp_path / "templates"
    steps = [StepSpec("only", handler="gated", retry={"max_attempts": 1})]
    write_template(templates, "gated", steps)
    gate = tmp_path / "gate"
    if ending == "complete":
        gate.touch()
    task_uuid = create(db, templates, "gated", {"gate": str(gate)})
    watcher = start_watch(db, task_uuid, "--exit-status", "--no-graph")
    assert read_waiting_lines(watcher) == waiting_lines(task_uuid)
    if ending == "cancelled":
        assert tasker(db, "task", "cancel", task_uuid).returncode == 0
    else:
        tasker(db, "task", "run", task_uuid, "--quiet")
    code, rest, err = finish(watcher)

    assert (code, err) == (exit_code, "")
    assert rest == status_text(db, task_uuid, "--no-graph")
    assert f"  Status: {ending}\n" in rest
    plain = tasker(db, "task", "status", task_uuid, "--watch")
    assert plain.returncode == EXIT_OK  # without --exit-status the watch itself succeeded


def test_exit_status_needs_watch(tmp_path: Path) -> None:
    db, templates = tmp_path / "tasker.db", tmp_path / "templates"
    write_template(templates, "journaled", JOURNALED)
    task_uuid = create(db, templates, "journaled")
    done = tasker(db, "task", "status", task_uuid, "--exit-status")
    assert done.returncode == 2
    assert done.stderr == "error: --exit-status needs --watch\nhint: add --watch (-w)\n"


def test_ctrl_c_while_waiting_exits_130_quietly(tmp_path: Path) -> None:
    db, templates = tmp_path / "tasker.db", tmp_path / "templates"
    write_template(templates, "journaled", JOURNALED)
    task_uuid = create(db, templates, "journaled")
    watcher = start_watch(db, task_uuid, "--no-graph")
    assert read_waiting_lines(watcher) == waiting_lines(task_uuid)

    watcher.send_signal(signal.SIGINT)
    code, rest, err = finish(watcher)

    assert (code, rest, err) == (EXIT_INTERRUPTED, "", "")  # no error, no frame when piped


WAITING_A_LONG_TIME = [StepSpec("wait", "asks_to_wait", config={"retry_after": 600})]


def test_the_retry_countdown_shows_in_status_and_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = Workflow(tmp_path, WAITING_A_LONG_TIME, name="retrying")
    task_uuid = flow.create()
    run = flow.start("task", "run", task_uuid)

    def waiting() -> bool:
        steps = flow.status_json(task_uuid)["steps"]
        return any(step["state"] == "waiting_for_retry" for step in steps)

    wait_for(waiting, "the step to wait for its retry")
    countdown = re.compile(r"^  • wait  waiting_for_retry  1/3  retry in \d+m \d+s  ", re.M)
    assert countdown.search(status_text(flow.db, task_uuid, "--no-graph"))
    run.send_signal(signal.SIGKILL)  # the watch then ends at once, its frame printed
    run.wait()
    watched = tasker(flow.db, "task", "status", task_uuid, "--watch", "--no-graph")
    assert watched.returncode == EXIT_OK, watched.stderr
    assert countdown.search(watched.stdout)

    # The same view in this process, its clock fixed a while before the retry is due.
    document = flow.status_json(task_uuid)
    (step,) = document["steps"]
    due = datetime.fromisoformat(step["next_retry_at"])
    for before_due, retry_in in ((3, "3.0s"), (597, "9m 57s")):
        monkeypatch.setattr(
            "tasker_ctl.tasks.watch.utc_now", lambda s=before_due: due - timedelta(seconds=s)
        )
        shown = CliRunner().invoke(
            app, ["task", "status", task_uuid, "--no-graph", "--db", str(flow.db)], env=ENV
        )
        lines = [line for line in shown.stdout.splitlines() if line.startswith("  • ")]
        assert lines == [
            f"  • wait  waiting_for_retry  1/3  retry in {retry_in}  RetryableError: rate limited"
        ]

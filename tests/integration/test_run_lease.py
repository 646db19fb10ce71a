"""One owner per run: a task's lease, with real ``tasker-ctl`` processes on real SQLite files.

A step handler (``probes.held``) journals its start and then waits for a gate file, so a test
holds a live run mid-step for exactly as long as it needs, without sleeping on a guess.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from engine_handlers.workflows import StepSpec, stored_attempts, stored_steps
from held_runs import (
    HELD_THEN_NEXT,
    Workflow,
    finish,
    journal_lines,
    starts,
    store_state,
    wait_for,
)

from tasker_ctl.engine.scheduler import RunOptions
from tasker_ctl.errors import EXIT_BUSY
from tasker_ctl.tasks.actions import cancel_task
from tasker_ctl.tasks.reads import task_status
from tasker_ctl.tasks.run import run_task


def test_a_second_run_is_refused_at_once_and_changes_nothing(tmp_path: Path) -> None:
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    # The first run is `task create --run`; the second a `task run` of the task it created.
    first = flow.start(
        "task",
        "create",
        "--namespace",
        "engine_tests",
        "--name",
        "leased",
        "--templates",
        str(flow.templates),
        "--input",
        json.dumps({"journal": str(flow.journal), "gate": str(flow.gate)}),
        "--run",
        "--format",
        "json",
    )
    wait_for(lambda: bool(starts(flow.journal, "first")), "the first run's handler to start")
    task_uuid = json.loads(first.stdout.readline())["task_uuid"]  # type: ignore[union-attr]
    before = store_state(flow.db)

    second = flow.run("task", "run", task_uuid)

    assert first.poll() is None  # refused while the first run is held: it never waits for it
    assert second.returncode == EXIT_BUSY, second.stderr
    error, hint = second.stderr.splitlines()
    assert error.startswith("error: ") and f"process {first.pid} since " in error
    assert "task status --watch" in hint and "task cancel" in hint
    assert store_state(flow.db) == before

    flow.gate.touch()
    code, _, err = finish(first)
    assert code == 0, err
    assert starts(flow.journal, "first") == [first.pid]
    assert starts(flow.journal, "second") == [first.pid]


def test_after_sigkill_status_says_interrupted_watch_exits_and_run_takes_over(
    tmp_path: Path,
) -> None:
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    task_uuid = flow.create()
    victim = flow.start("task", "run", task_uuid)
    wait_for(lambda: bool(starts(flow.journal, "first")), "the run's handler to start")
    assert flow.status_json(task_uuid)["run"]["state"] == "running"

    victim.send_signal(signal.SIGKILL)
    victim.wait()

    document = flow.status_json(task_uuid)
    assert document["status"] == "steps_in_process"  # Tasker's value, unchanged
    run = document["run"]
    assert run["state"] == "interrupted"
    assert run["holder"]["pid"] == victim.pid
    assert run["stopped_at"] == run["heartbeat"]
    text = " ".join(flow.run("task", "status", task_uuid, "--no-graph").stdout.split())
    assert f"interrupted: the last run stopped at {run['stopped_at']} without finishing" in text
    assert f"resume with `tasker-ctl task run {task_uuid}`" in text

    watch = flow.run("task", "status", task_uuid, "--watch")
    assert watch.returncode == 0, watch.stderr

    flow.gate.touch()
    resumed = flow.run("task", "run", task_uuid)
    assert resumed.returncode == 0, resumed.stderr
    assert flow.status_json(task_uuid)["run"]["state"] == "none"
    assert starts(flow.journal, "first") == [victim.pid, resumed_pid(flow.journal, "first")]
    audit = flow.run("task", "audit", task_uuid, "--format", "json")
    takeovers = [e for e in json.loads(audit.stdout) if e["event"] == "run_taken_over"]
    assert len(takeovers) == 1
    assert takeovers[0]["metadata"]["previous_pid"] == victim.pid
    assert takeovers[0]["metadata"]["reason"] == "holder_dead"


def resumed_pid(journal: Path, step: str) -> int:
    return starts(journal, step)[-1]


def test_take_over_from_a_live_stuck_run(tmp_path: Path) -> None:
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    task_uuid = flow.create()
    stuck = flow.start("task", "run", task_uuid)
    wait_for(lambda: bool(starts(flow.journal, "first")), "the first run's handler to start")

    taker = flow.start("task", "run", task_uuid, "--take-over")
    wait_for(lambda: len(starts(flow.journal, "first")) == 2, "the taker's handler to start")
    (tmp_path / f"gate.{stuck.pid}").touch()  # the stuck handler returns: its next write
    code, _, err = finish(stuck)
    assert code == EXIT_BUSY
    assert f"no longer holds task {task_uuid}" in err and "Traceback" not in err

    flow.gate.touch()
    code, _, err = finish(taker)
    assert code == 0, err
    assert f"note: took over task {task_uuid} from process {stuck.pid} since " in err
    steps = stored_steps(flow.db, task_uuid)
    assert steps["first"].result["pid"] == taker.pid  # the old holder's result was not written
    assert starts(flow.journal, "second") == [taker.pid]


def test_cancel_from_another_terminal_stops_the_run_with_a_clear_message(
    tmp_path: Path,
) -> None:
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    task_uuid = flow.create()
    running = flow.start("task", "run", task_uuid)
    wait_for(lambda: bool(starts(flow.journal, "first")), "the run's handler to start")

    cancelled = flow.run("task", "cancel", task_uuid, "--reason", "wrong order")
    assert cancelled.returncode == 0, cancelled.stderr
    flow.gate.touch()
    code, _, err = finish(running)

    assert code == 1
    assert "another process changed it meanwhile" not in err and "Traceback" not in err
    assert "error: `task cancel` by cli-operator changed the task from another process" in err
    assert "hint: the task is cancelled" in err
    document = flow.status_json(task_uuid)
    assert document["status"] == "cancelled"
    assert document["run"]["state"] == "none"
    assert starts(flow.journal, "second") == []
    first = next(step for step in document["steps"] if step["name"] == "first")
    assert first["state"] == "cancelled"  # the operator's move stands; what the handler did is kept
    (kept,) = stored_attempts(flow.db, first["step_uuid"])
    assert kept.success and kept.result["pid"] == running.pid
    assert kept.metadata["step_moved_by_operator"] is True


def test_another_operator_command_stops_the_run_to_be_continued(tmp_path: Path) -> None:
    flow = Workflow(
        tmp_path,
        [
            StepSpec("gated", handler="gated", retry={"max_attempts": 1}),
            StepSpec("held", handler="held"),
        ],
    )
    task_uuid = flow.create()
    running = flow.start("task", "run", task_uuid)
    wait_for(lambda: bool(starts(flow.journal, "held")), "the held handler to start")
    wait_for(
        lambda: any(s["state"] == "error" for s in flow.status_json(task_uuid)["steps"]),
        "the gated step to fail",
    )

    reset = flow.run("task", "reset-step", task_uuid, "gated", "--reason", "gate fixed")
    assert reset.returncode == 0, reset.stderr
    flow.gate.touch()
    code, _, err = finish(running)

    assert code == EXIT_BUSY, err
    assert "error: `task reset-step` by cli-operator changed the task" in err
    assert f"hint: continue with `tasker-ctl task run {task_uuid}`" in err
    steps = {s["name"]: s["state"] for s in flow.status_json(task_uuid)["steps"]}
    assert steps == {"gated": "pending", "held": "complete"}
    resumed = flow.run("task", "run", task_uuid)
    assert resumed.returncode == 0, resumed.stderr
    assert len(starts(flow.journal, "held")) == 1


def test_a_running_engine_notices_an_operator_while_the_handler_blocks(tmp_path: Path) -> None:
    """In-process: the handler never returns, so only the heartbeat thread can notice."""
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    task_uuid = flow.create()
    results: list[Any] = []
    options = RunOptions(heartbeat_seconds=0.1, grace_seconds=0.2)
    runner = threading.Thread(
        target=lambda: results.append(run_task(flow.db, task_uuid, options=options))
    )
    runner.start()
    try:
        wait_for(lambda: bool(starts(flow.journal, "first")), "the handler to start")
        # The heartbeat comes from a thread of its own: a handler that never returns
        # cannot let the lease go stale.
        beat = task_status(flow.db, task_uuid).run
        wait_for(
            lambda: task_status(flow.db, task_uuid).run.heartbeat != beat.heartbeat,
            "a heartbeat while the handler runs",
        )
        cancel_task(flow.db, task_uuid, reason="stop")
        runner.join(timeout=30)  # a failure timeout, under the held handler's own 60 s
        # Ended while the handler still waits for its gate: noticed by the heartbeat thread.
        assert not runner.is_alive()
        assert ["end", "first"] not in [line[:2] for line in journal_lines(flow.journal)]
    finally:
        flow.gate.touch()  # let the abandoned handler thread end
        runner.join()
    result = results[0]
    assert result.stopped_by is not None and result.stopped_by.action == "cancel"
    assert result.status == "cancelled"


def test_a_holder_on_another_host_is_alive_until_its_heartbeat_is_stale(tmp_path: Path) -> None:
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    task_uuid = flow.create()
    now = time.time()

    def lease_from_elsewhere(heartbeat_age: float) -> None:
        moment = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - heartbeat_age))
        conn = sqlite3.connect(flow.db)
        with conn:
            conn.execute(
                "INSERT OR REPLACE INTO run_leases (task_uuid, token, pid, host, boot_id, "
                "process_start, acquired_at, heartbeat_at, heartbeat_seconds) "
                "VALUES (?, 'elsewhere', 4242, 'another-host', NULL, NULL, ?, ?, 2.0)",
                (task_uuid, moment, moment),
            )
            conn.execute("UPDATE tasks SET state = 'steps_in_process' WHERE uuid = ?", (task_uuid,))
        conn.close()

    lease_from_elsewhere(heartbeat_age=5)
    assert task_status(flow.db, task_uuid).run.state == "running"
    refused = flow.run("task", "run", task_uuid)
    assert refused.returncode == EXIT_BUSY
    assert "process 4242 on another-host since" in refused.stderr

    lease_from_elsewhere(heartbeat_age=31)  # past 15 heartbeats of 2 s
    assert task_status(flow.db, task_uuid).run.state == "interrupted"


def test_a_reused_pid_is_not_taken_for_the_holder() -> None:
    from tasker_ctl.engine.lease import holder_alive, this_process
    from tasker_ctl.store.records import LeaseRecord

    me = this_process()
    if me.process_start is None:
        pytest.skip("the platform does not tell a process's start time")

    def lease(process_start: str | None) -> LeaseRecord:
        holder = type(me)(me.pid, me.host, me.boot_id, process_start)
        return LeaseRecord("t", "x", holder, "2026-01-01T00:00:00.000Z", "", 2.0, None, None)

    assert holder_alive(lease(me.process_start))
    assert not holder_alive(lease(str(int(me.process_start) - 1)))  # same pid, older process
    ended = subprocess.Popen(["true"])
    ended.wait()
    gone = type(me)(ended.pid, me.host, me.boot_id, None)
    assert not holder_alive(LeaseRecord("t", "x", gone, "", "", 2.0, None, None))

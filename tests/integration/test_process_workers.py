"""``--workers process``: handlers run in worker processes, with the same stored results.

Each run starts real worker processes (``spawn``), so these tests keep their workflows small.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_handlers.workflows import StepSpec, create, stored_attempts, stored_steps
from engine_handlers.workflows import write_template as write_steps
from held_runs import starts, wait_for
from subprocesses import REPO_ROOT, run_tasker_ctl, subprocess_env, tasker_ctl_command

from tasker_ctl.engine.options import WorkerKind
from tasker_ctl.engine.scheduler import RunOptions, RunResult
from tasker_ctl.tasks.create import CreateRequest, create_task
from tasker_ctl.tasks.run import run_task

WAIT = 30.0  # seconds; only reached when the behaviour under test is broken

DAG = [
    StepSpec("start"),
    StepSpec("left", "flaky", depends_on=["start"], config={"failures": 2}),
    StepSpec("right", depends_on=["start"]),
    StepSpec("join", depends_on=["left", "right"]),
]


def _run(db: Path, task_uuid: str, workers: WorkerKind, *handlers: str) -> RunResult:
    options = RunOptions(concurrency=2, workers=workers)
    return run_task(db, task_uuid, handler_modules=handlers, options=options)


def _stored(db: Path, task_uuid: str) -> dict[str, Any]:
    """What a run leaves in the store, per step: state, attempts, result, each attempt's error
    type (without uuids, times, or the traceback text that names a process)."""
    return {
        name: (
            step.state,
            step.attempts,
            step.result,
            [
                (a.success, (a.error or {}).get("error_type"))
                for a in stored_attempts(db, step.uuid)
            ],
        )
        for name, step in stored_steps(db, task_uuid).items()
    }


@pytest.fixture
def in_repo_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """From the repository root, so ``handlers`` is the example handler package."""
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in [m for m in sys.modules if m == "handlers" or m.startswith("handlers.")]:
        del sys.modules[name]


def _example(db: Path, namespace: str, name: str, task_input: dict[str, Any]) -> str:
    request = CreateRequest(
        namespace=namespace,
        name=name,
        input=task_input,
        search_path=[REPO_ROOT / "templates"],
        db_path=db,
    )
    return create_task(request).task_uuid


@pytest.mark.usefixtures("in_repo_root")
def test_process_workers_store_what_threads_store(tmp_path: Path) -> None:
    """A DAG with retries, a decision and a batch: the same steps, states, attempts and
    results as with threads."""
    stored: dict[str, list[dict[str, Any]]] = {}
    for workers in ("thread", "process"):
        db = tmp_path / workers / "tasker.db"
        write_steps(tmp_path / workers / "templates", "wf", DAG)
        tasks = [
            create(db, tmp_path / workers / "templates", "wf"),
            _example(
                db,
                "approvals",
                "approval_routing",
                {"amount": 5000, "requester": "ada", "purpose": "laptops"},
            ),
            _example(
                db,
                "csv_processing",
                "csv_inventory",
                {"csv_file_path": "templates/data/products.csv", "analysis_mode": "inventory"},
            ),
        ]
        results = [_run(db, task_uuid, workers) for task_uuid in tasks]
        assert [r.status for r in results] == ["complete"] * 3, results
        stored[workers] = [_stored(db, task_uuid) for task_uuid in tasks]

    assert stored["process"] == stored["thread"]
    dag, approval, batch = stored["process"]
    assert dag["left"][1:] == (
        3,
        {"succeeded_on_attempt": 3},
        [(False, "handler_error")] * 2 + [(True, None)],
    )
    assert {"manager_approval", "finance_review"} <= set(approval)
    assert sum(name.startswith("process_csv_batch_") for name in batch) > 1


def test_a_result_that_cannot_be_pickled_fails_the_step_naming_the_part(tmp_path: Path) -> None:
    write_steps(tmp_path / "templates", "wf", [StepSpec("odd", "not_picklable")])
    db = tmp_path / "tasker.db"
    task_uuid = create(db, tmp_path / "templates", "wf")

    result = _run(db, task_uuid, "process")

    assert result.status == "blocked_by_failures"
    step = stored_steps(db, task_uuid)["odd"]
    assert (step.state, step.attempts) == ("error", 1)  # not retried: it would fail again
    assert step.error["error_type"] == "result_not_picklable"
    assert "cannot be pickled" in step.error["message"]
    assert "result['rows'][1]['label']: not_picklable.<locals>.LocalText" in step.error["message"]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_timeout_kills_the_worker_process_and_the_retry_runs_in_a_new_one(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.log"
    step = StepSpec(
        "slow",
        "sleepy",
        config={"first_attempt_seconds": 60},
        retry={"max_attempts": 2},
        timeout_seconds=1,
    )
    write_steps(tmp_path / "templates", "wf", [step])
    db = tmp_path / "tasker.db"
    task_uuid = create(db, tmp_path / "templates", "wf", {"journal": str(journal)})
    results: list[RunResult] = []
    options = RunOptions(concurrency=1, workers="process")
    runner = threading.Thread(
        target=lambda: results.append(run_task(db, task_uuid, options=options)), daemon=True
    )

    runner.start()
    runner.join(timeout=WAIT)

    assert not runner.is_alive(), "the run waits for the 60 s first attempt"
    (result,) = results
    assert result.succeeded, stored_steps(db, task_uuid)["slow"].error
    first, second = stored_attempts(db, stored_steps(db, task_uuid)["slow"].uuid)
    assert (first.success, first.error["error_type"]) == (False, "timeout")
    assert (second.success, second.result) == (True, {"attempt": 2})
    pids = [int(line.split()[2]) for line in journal.read_text().splitlines()]
    assert len(pids) == 2 and pids[0] != pids[1] != os.getpid()
    wait_for(lambda: _gone(pids[0]), "the worker process of the timed-out attempt to end", WAIT)


def _project(tmp_path: Path, config: str) -> tuple[Path, str]:
    write_steps(tmp_path / "templates", "wf", [StepSpec("where", "where_it_ran")])
    handlers = 'handler-packages = ["engine_handlers"]\n'
    (tmp_path / ".tasker-ctl.toml").write_text(handlers + config, encoding="utf-8")
    db = tmp_path / "tasker.db"
    return db, create(db, tmp_path / "templates", "wf")


def test_the_config_key_runs_handlers_in_worker_processes_with_their_output_kept(
    tmp_path: Path,
) -> None:
    db, task_uuid = _project(tmp_path, 'workers = "process"\n')

    completed = run_tasker_ctl("task", "run", task_uuid, "--db", str(db), cwd=tmp_path)

    assert completed.returncode == 0, completed.stderr
    result = stored_steps(db, task_uuid)["where"].result
    assert result["parent"] != os.getpid()  # the parent is the tasker-ctl process, not pytest
    assert "where | ran where" in completed.stdout
    logs = run_tasker_ctl("task", "logs", task_uuid, "--db", str(db), cwd=tmp_path)
    assert "ran where" in logs.stdout


def test_the_flag_wins_over_the_config_key(tmp_path: Path) -> None:
    db, task_uuid = _project(tmp_path, 'workers = "process"\n')

    completed = run_tasker_ctl(
        "task", "run", task_uuid, "--db", str(db), "--workers", "thread", cwd=tmp_path
    )

    assert completed.returncode == 0, completed.stderr
    result = stored_steps(db, task_uuid)["where"].result
    assert result["parent"] == os.getpid()  # a thread of the tasker-ctl process run by pytest


def test_a_config_value_that_is_not_a_worker_kind_is_refused(tmp_path: Path) -> None:
    db, task_uuid = _project(tmp_path, 'workers = "fork"\n')

    completed = run_tasker_ctl("task", "run", task_uuid, "--db", str(db), cwd=tmp_path)

    assert completed.returncode == 2, completed.stderr
    assert "'workers' must be \"thread\" or \"process\", not 'fork'" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert stored_steps(db, task_uuid)["where"].state == "pending"


def test_ctrl_c_to_the_whole_process_group_lets_the_worker_finish_its_step(
    tmp_path: Path,
) -> None:
    """A terminal's Ctrl-C reaches the worker processes too: they ignore it, and the run
    records the running step before it exits 130."""
    journal = tmp_path / "journal.log"
    steps = [StepSpec("slow", config={"sleep_ms": 1000}), StepSpec("last", depends_on=["slow"])]
    write_steps(tmp_path / "templates", "wf", steps)
    db = tmp_path / "tasker.db"
    task_uuid = create(db, tmp_path / "templates", "wf", {"journal": str(journal)})
    process = subprocess.Popen(
        tasker_ctl_command("task", "run", task_uuid, "--db", str(db), "--workers", "process"),
        cwd=REPO_ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: bool(starts(journal, "slow")), "the slow step to start", WAIT)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    states = {name: step.state for name, step in stored_steps(db, task_uuid).items()}
    assert states == {"slow": "complete", "last": "pending"}
    assert [line.split()[:2] for line in journal.read_text().splitlines()] == [
        ["start", "slow"],
        ["end", "slow"],
    ]

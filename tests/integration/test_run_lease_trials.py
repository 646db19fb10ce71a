"""Two runs of one task started 0–1 s apart, many times: one runs it, the other is refused.

Each trial has its own store and a 4-step chain whose handler journals every execution (start
and end, with the pid) and takes 0.6 s, so the task (2.4 s) outlasts the gap between the two starts by far, even
on a loaded machine.
Both runs are forked copies of this process running exactly what ``task run`` runs
(``run_task``): a fork costs milliseconds where a fresh interpreter costs most of a second.
Trials run a batch at a time, each in its own directory.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path

import pytest
from engine_handlers.workflows import StepSpec, create, write_template
from held_runs import journal_lines

from tasker_ctl.errors import EXIT_BUSY, TaskerCtlError
from tasker_ctl.tasks.run import run_task

TRIALS = 48
BATCH = 24
STEPS = [
    StepSpec(f"s{index}", depends_on=(f"s{index - 1}",) if index else (), config={"sleep_ms": 600})
    for index in range(4)
]
SEED = int(os.environ.get("LEASE_TRIAL_SEED", "20261203"))


def _fork_run(db: Path, task_uuid: str, journal: Path, report: Path) -> int:
    """Fork a child that runs the task and writes ``<exit code> <seconds> <journal lines>`` to
    ``report``: the lines the handlers had journalled when the run returned."""
    pid = os.fork()
    if pid:
        return pid
    started = time.monotonic()
    code = 2
    try:
        result = run_task(db, task_uuid)
        code = 0 if result.succeeded else 1
    except TaskerCtlError as error:
        code = error.exit_code
    except BaseException:  # the child must never return into pytest
        code = 3
    seconds = time.monotonic() - started
    report.write_text(f"{code} {seconds:.3f} {len(journal_lines(journal))}")
    os._exit(code)


def _start_events(db: Path, task_uuid: str) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT COUNT(*), step_uuid FROM step_transitions WHERE task_uuid = ? "
            "AND event = 'start' GROUP BY step_uuid",
            (task_uuid,),
        ).fetchall()
    finally:
        conn.close()


@pytest.mark.slow
def test_two_runs_started_apart_never_run_a_step_twice(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    write_template(tmp_path / "templates", "chain", STEPS)
    refusal_seconds: list[float] = []
    executions = 0
    for batch in range(TRIALS // BATCH):
        trials = []
        for index in range(BATCH):
            directory = tmp_path / f"trial{batch}_{index}"
            directory.mkdir()
            journal = directory / "journal.txt"
            db = directory / "tasker.db"
            task_uuid = create(db, tmp_path / "templates", "chain", {"journal": str(journal)})
            trials.append((directory, db, journal, task_uuid, rng.uniform(0.0, 1.0)))
        pids: dict[tuple[int, str], int] = {}
        began = time.monotonic()
        for index, (directory, db, journal, task_uuid, _) in enumerate(trials):
            pids[(index, "a")] = _fork_run(db, task_uuid, journal, directory / "a.txt")
        for index, (directory, db, journal, task_uuid, delay) in sorted(
            enumerate(trials), key=lambda item: item[1][4]
        ):
            time.sleep(max(0.0, began + delay - time.monotonic()))
            pids[(index, "b")] = _fork_run(db, task_uuid, journal, directory / "b.txt")
        for pid in pids.values():
            os.waitpid(pid, 0)

        for index, (directory, db, journal, task_uuid, delay) in enumerate(trials):
            reports = {run: (directory / f"{run}.txt").read_text().split() for run in ("a", "b")}
            codes = sorted(int(code) for code, _, _ in reports.values())
            assert codes == [0, EXIT_BUSY], (directory.name, delay, reports)
            loser = next(run for run, (code, _, _) in reports.items() if int(code) == EXIT_BUSY)
            winner = "b" if loser == "a" else "a"
            refusal_seconds.append(float(reports[loser][1]))
            # Refused at once: the winner had not journalled its last step's end by then.
            assert int(reports[loser][2]) < 2 * len(STEPS), (directory.name, reports)
            lines = journal_lines(journal)
            executions += sum(1 for line in lines if line[0] == "start")
            started = [name for kind, name, _, _ in lines if kind == "start"]
            assert sorted(started) == [step.name for step in STEPS], (directory.name, lines)
            assert {int(pid) for _, _, pid, _ in lines} == {pids[(index, winner)]}
            assert all(count == 1 for count, _ in _start_events(db, task_uuid))
    assert executions == TRIALS * len(STEPS)
    print(
        f"\n{TRIALS} trials, {executions} executions, 0 twice; refusals took "
        f"{min(refusal_seconds):.3f}-{max(refusal_seconds):.3f} s "
        f"(median {sorted(refusal_seconds)[len(refusal_seconds) // 2]:.3f} s)"
    )

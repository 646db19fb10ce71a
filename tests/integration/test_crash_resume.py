"""Kill ``task run`` with SIGKILL at random moments, then check that resuming loses nothing.

The workflow has 18 steps (9 layers of 2, each step depending on both steps above it); every
handler appends a start and an end line to a journal file and sleeps a few milliseconds. Most kills
hit a forked copy of this test process running exactly what ``task run`` runs (``run_task``): a
fork costs milliseconds where a new interpreter costs most of a second, so 25 kills fit in a few
seconds. Two more kills hit a real ``tasker-ctl task run`` subprocess.

After each kill the store must pass ``PRAGMA integrity_check``; steps complete at a kill must
never start again, and keep their stored result; steps in progress at a kill must start again.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engine_handlers.workflows import (
    StepSpec,
    create,
    layered_dag,
    run_forked_then_kill,
    stored_steps,
    write_template,
)
from subprocesses import REPO_ROOT, subprocess_env, tasker_ctl_command

from tasker_ctl.engine.scheduler import RunOptions
from tasker_ctl.tasks.run import run_task

FORK_KILLS = 25
CLI_KILLS = 2
SEED = int(os.environ.get("CRASH_TEST_SEED", "20261122"))


@dataclass(frozen=True)
class Snapshot:
    """What the store and the journal said right after one kill."""

    journal_lines: int
    states: dict[str, str]
    results: dict[str, Any]


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _journal(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [(line.split()[0], line.split()[1]) for line in path.read_text().splitlines()]


def _snapshot(db: Path, task_uuid: str, journal: Path) -> Snapshot:
    assert _integrity(db) == "ok"
    steps = stored_steps(db, task_uuid)
    return Snapshot(
        journal_lines=len(_journal(journal)),
        states={name: step.state for name, step in steps.items()},
        results={name: step.result for name, step in steps.items()},
    )


def _run_cli_then_kill(db: Path, task_uuid: str, journal: Path, rng: random.Random) -> None:
    """Start a real ``task run`` and SIGKILL it soon after its first handler starts."""
    lines_before = len(_journal(journal))
    process = subprocess.Popen(
        tasker_ctl_command("task", "run", task_uuid, "--db", str(db), "--concurrency", "4"),
        cwd=REPO_ROOT,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while len(_journal(journal)) == lines_before and process.poll() is None:
            assert time.monotonic() < deadline, "task run never started a step"
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.03))
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


@pytest.fixture
def crash_workflow(tmp_path: Path) -> tuple[Path, str, Path]:
    rng = random.Random(SEED)
    steps = [
        StepSpec(name, depends_on=parents, config={"sleep_ms": rng.randint(3, 12)})
        for name, parents in layered_dag(layers=9, width=2)
    ]
    write_template(tmp_path / "templates", "crashy", steps)
    db = tmp_path / "tasker.db"
    journal = tmp_path / "journal.log"
    return db, create(db, tmp_path / "templates", "crashy", {"journal": str(journal)}), journal


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_sigkill_at_random_points_then_resume_loses_nothing(
    crash_workflow: tuple[Path, str, Path],
) -> None:
    db, task_uuid, journal = crash_workflow
    rng = random.Random(SEED)
    snapshots: list[Snapshot] = []
    for kill in range(FORK_KILLS + CLI_KILLS):
        if kill in (3, 12):
            _run_cli_then_kill(db, task_uuid, journal, rng)
        else:
            run_forked_then_kill(db, task_uuid, rng.uniform(0.0, 0.05), RunOptions(concurrency=4))
        snapshots.append(_snapshot(db, task_uuid, journal))

    run_task(db, task_uuid)
    final = _snapshot(db, task_uuid, journal)

    assert set(final.states.values()) == {"complete"}, final.states
    journal_lines = _journal(journal)
    interrupted_steps = 0
    for number, snapshot in enumerate(snapshots):
        later_starts = {
            name for kind, name in journal_lines[snapshot.journal_lines :] if kind == "start"
        }
        for name, state in snapshot.states.items():
            if state == "complete":
                assert name not in later_starts, f"{name} ran again after kill {number}"
                assert final.results[name] == snapshot.results[name], f"{name}'s result changed"
            elif state == "in_progress":
                interrupted_steps += 1
                assert name in later_starts, f"{name} was running at kill {number}, never rerun"
    # Every stored result came from a finished execution of that step.
    ended = {name for kind, name in journal_lines if kind == "end"}
    assert set(final.states) <= ended
    for name, result in final.results.items():
        assert result["step"] == name
    # The kills really landed mid-run (this fails if the workflow got too fast for the test).
    assert interrupted_steps >= 5, interrupted_steps
    assert sum(1 for s in snapshots if "complete" not in set(s.states.values())) < len(snapshots)

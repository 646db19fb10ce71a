"""Two processes writing one new store at the same time: no "database is locked" escapes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tasker_ctl.store import open_for_reading

TASKS_PER_PROCESS = 200

# Each writer waits for the go file, then opens the (new) store -- so both race to apply the
# migrations -- and creates its tasks one transaction at a time, reopening the store every
# 20 tasks as separate commands would.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tasker_ctl.store import open_for_writing
    from tasker_ctl.store.records import NewStep, NewTask

    db, go, label, count = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    while not go.exists():
        time.sleep(0.001)
    created = 0
    while created < count:
        with open_for_writing(db) as repo:
            for _ in range(min(20, count - created)):
                steps = [
                    NewStep(name=n, template_step_name=n, step_type="standard",
                            handler={"callable": "h." + n}, retry={}, max_attempts=3,
                            retryable=True)
                    for n in ("a", "b", "c")
                ]
                task = NewTask(namespace=label, name="t", version="1.0.0", input={"i": created},
                               snapshot={"writer": label})
                repo.create_task(task, steps, [("a", "b"), ("b", "c")])
                created += 1
    print(created)
    """
)


def test_two_processes_creating_tasks_at_once_both_succeed(tmp_path: Path) -> None:
    db = tmp_path / "shared" / "tasker.db"
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(go), label, str(TASKS_PER_PROCESS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label in ("first", "second")
    ]
    go.touch()
    outputs = [writer.communicate(timeout=120) for writer in writers]
    for writer, (stdout, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr
        assert "locked" not in stderr
        assert stdout.strip() == str(TASKS_PER_PROCESS)
    reader = open_for_reading(db)
    assert reader is not None
    with reader:
        assert reader.count_tasks() == 2 * TASKS_PER_PROCESS
        assert reader.count_tasks(namespace="first") == TASKS_PER_PROCESS
        counts = reader.table_counts()
    assert counts["steps"] == 3 * 2 * TASKS_PER_PROCESS
    assert counts["step_edges"] == 2 * 2 * TASKS_PER_PROCESS


# Each opener says it is ready (its imports done), waits for the go file, then opens the new
# store: all of them race to switch it to WAL and apply the migrations.
OPENER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tasker_ctl.store import open_for_writing

    db, go, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    ready.touch()
    while not go.exists():
        time.sleep(0.0005)
    with open_for_writing(db) as repo:
        print(repo.count_tasks())
    """
)


def test_processes_opening_a_new_store_together_all_succeed(tmp_path: Path) -> None:
    for round_number in range(8):
        round_dir = tmp_path / f"round{round_number}"
        round_dir.mkdir()
        db, go = round_dir / "tasker.db", round_dir / "go"
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(db), str(go), str(round_dir / f"ready{n}")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(4)
        ]
        while len(list(round_dir.glob("ready*"))) < len(openers):
            time.sleep(0.005)
        go.touch()
        for opener in openers:
            stdout, stderr = opener.communicate(timeout=60)
            assert opener.returncode == 0, stderr
            assert stdout.strip() == "0"

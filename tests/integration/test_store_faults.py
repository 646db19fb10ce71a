"""The store is honest about faults: real ``tasker-ctl`` processes on real (damaged) SQLite files.

- a store deleted or replaced while ``task run`` uses it (or only its ``-wal``) stops the run
  with exit 74, where SQLite would carry on writing into a file nobody will read again;
- a corrupt page gives exit 74 and one ``error:`` line on every command, never a traceback;
- a SQLite file of another application is refused without changing a byte of it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from engine_handlers.workflows import StepSpec
from held_runs import HELD_THEN_NEXT, Workflow, finish, starts, wait_for

from tasker_ctl.errors import EXIT_STORE_UNUSABLE


def _delete_store(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def _replace_store(db: Path) -> None:
    copy = db.with_name("copy.db")
    shutil.copyfile(db, copy)
    copy.replace(db)  # a new file (another inode) at the same path


def _delete_wal(db: Path) -> None:
    db.with_name(db.name + "-wal").unlink()


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (_delete_store, "was deleted while this command was using it"),
        (_replace_store, "was replaced by another file while this command was using it"),
        (_delete_wal, "write-ahead log"),
    ],
    ids=["deleted", "replaced", "wal-deleted"],
)
def test_a_store_that_goes_away_during_a_run_stops_it_with_exit_74(
    tmp_path: Path, fault: Callable[[Path], None], said: str
) -> None:
    flow = Workflow(tmp_path, HELD_THEN_NEXT)
    task_uuid = flow.create()
    running = flow.start("task", "run", task_uuid)
    wait_for(lambda: bool(starts(flow.journal, "first")), "the run's handler to start")

    fault(flow.db)
    flow.gate.touch()
    code, out, err = finish(running)

    assert code == EXIT_STORE_UNUSABLE, out + err
    assert "Traceback" not in err and "complete" not in out
    lines = err.splitlines()
    assert lines[0].startswith("error: ") and said in lines[0]
    assert lines[1].startswith("hint: ")
    assert starts(flow.journal, "second") == []  # nothing ran on what was not recorded


def _corrupt_steps_table(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'steps'").fetchone()[0]
    finally:
        conn.close()
    with db.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)


@pytest.mark.parametrize(
    "command",
    [
        ("task", "status", "{task}"),
        ("task", "status", "{task}", "--format", "json"),
        ("task", "steps", "{task}"),
        ("task", "step", "{task}", "first"),
        ("task", "audit", "{task}"),
        ("task", "visualize", "{task}"),
        ("task", "list"),
        ("task", "run", "{task}"),
        ("task", "cancel", "{task}"),
        ("task", "retry", "{task}"),
    ],
    ids=lambda command: "-".join(part for part in command if part != "{task}"),
)
def test_a_corrupt_page_gives_exit_74_and_one_line_on_every_command(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    flow = Workflow(tmp_path, [StepSpec("first")])
    task_uuid = flow.create()
    _corrupt_steps_table(flow.db)

    done = flow.run(*(part.replace("{task}", task_uuid) for part in command))

    assert done.returncode == EXIT_STORE_UNUSABLE, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    if "json" in command:  # under --format json, the error is one JSON line
        assert len(lines) == 1
        assert json.loads(lines[0])["error"]["exit_code"] == EXIT_STORE_UNUSABLE
        return
    assert len(lines) <= 2 and lines[0].startswith("error: ")
    assert all(line.startswith("hint: ") for line in lines[1:])


def test_a_sqlite_file_of_another_application_is_refused_without_changing_a_byte(
    tmp_path: Path,
) -> None:
    flow = Workflow(tmp_path, [StepSpec("first")])
    conn = sqlite3.connect(flow.db)
    with conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.close()
    before = hashlib.sha256(flow.db.read_bytes()).hexdigest()

    for command in (
        ("task", "run", "0000"),
        ("task", "cancel", "0000"),
        ("task", "status", "0000"),
        ("task", "list"),
        (
            "task",
            "create",
            "--namespace",
            "engine_tests",
            "--name",
            "leased",
            "--templates",
            str(flow.templates),
            "--input",
            json.dumps({"journal": str(flow.journal)}),
        ),
    ):
        done = flow.run(*command)
        assert done.returncode == EXIT_STORE_UNUSABLE, (command, done.stderr)
        assert "not a tasker-ctl store" in done.stderr

    assert hashlib.sha256(flow.db.read_bytes()).hexdigest() == before
    assert sorted(
        path.name for path in tmp_path.iterdir() if path.name.startswith("tasker.db")
    ) == ["tasker.db"]

"""``--durability`` and the ``durability`` config key: the store connection a run commits through
gets ``synchronous=FULL`` (issue 13 §4). The setting is read back from SQLite on the run's own
connection and reported in the ``run_started`` event."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from engine_handlers.workflows import StepSpec, create, write_template
from subprocesses import run_tasker_ctl

from tasker_ctl.errors import EXIT_USAGE
from tasker_ctl.store import open_for_writing, use_durability

STEPS = [StepSpec("first"), StepSpec("second", depends_on=["first"])]


def _create_run(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    write_template(tmp_path / "templates", "wf", STEPS)
    return run_tasker_ctl(
        "task",
        "create",
        "--namespace",
        "engine_tests",
        "--name",
        "wf",
        "--input",
        "{}",
        "--templates",
        str(tmp_path / "templates"),
        "--db",
        str(tmp_path / "tasker.db"),
        "--run",
        "--handlers",
        "engine_handlers.probes",
        "--format",
        "json",
        *flags,
        cwd=tmp_path,
    )


def _synchronous_of_the_run(completed: subprocess.CompletedProcess[str]) -> object:
    assert completed.returncode == 0, completed.stderr
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    (started,) = [event for event in events if event["type"] == "run_started"]
    assert events[-1]["status"] == "complete"
    return started["synchronous"]


def test_a_run_commits_with_synchronous_normal_by_default(tmp_path: Path) -> None:
    assert _synchronous_of_the_run(_create_run(tmp_path)) == "normal"


def test_durability_full_gives_the_run_synchronous_full(tmp_path: Path) -> None:
    assert _synchronous_of_the_run(_create_run(tmp_path, "--durability", "full")) == "full"


def test_task_run_takes_durability_full_too(tmp_path: Path) -> None:
    write_template(tmp_path / "templates", "wf", STEPS)
    db = tmp_path / "tasker.db"
    task_uuid = create(db, tmp_path / "templates", "wf", {})

    completed = run_tasker_ctl(
        "task", "run", task_uuid, "--db", str(db), "--format", "json", "--durability", "full"
    )

    assert _synchronous_of_the_run(completed) == "full"


def test_the_config_key_durability_sets_it_and_the_flag_wins(tmp_path: Path) -> None:
    (tmp_path / ".tasker-ctl.toml").write_text('durability = "full"\n', encoding="utf-8")

    assert _synchronous_of_the_run(_create_run(tmp_path)) == "full"
    assert _synchronous_of_the_run(_create_run(tmp_path, "--durability", "normal")) == "normal"


def test_an_unknown_durability_in_the_config_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / ".tasker-ctl.toml").write_text('durability = "paranoid"\n', encoding="utf-8")

    completed = _create_run(tmp_path)

    assert completed.returncode == EXIT_USAGE
    error = json.loads(completed.stderr)["error"]  # the run asks for --format json
    assert error["exit_code"] == EXIT_USAGE
    assert ".tasker-ctl.toml" in error["message"] and "durability" in error["message"]
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "tasker.db").exists()


@pytest.mark.parametrize(("durability", "expected"), [("normal", "normal"), ("full", "full")])
def test_every_writer_of_the_process_gets_the_process_durability(
    tmp_path: Path, durability: str, expected: str
) -> None:
    use_durability(durability)
    try:
        with open_for_writing(tmp_path / "tasker.db") as repository:
            assert repository.synchronous() == expected
        with open_for_writing(tmp_path / "tasker.db", durability="full") as repository:
            assert repository.synchronous() == "full"
    finally:
        use_durability("normal")

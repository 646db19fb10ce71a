"""``task create|list|status|steps|step|audit`` and the operator commands, through the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app
from tasker_ctl.store import open_for_writing
from tasker_ctl.store.records import AttemptOutcome, StepChange

TEMPLATE = """
name: process_order
namespace_name: shop
version: 1.0.0
input_schema:
  type: object
  required: [order_id]
  properties:
    order_id: {type: integer}
    email: {type: string, format: email}
steps:
  - name: validate
    handler: {callable: shop.handlers.Validate}
  - name: charge
    handler: {callable: shop.handlers.Charge}
    dependencies: [validate]
"""


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory with ./templates/order.yaml and no store yet."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "order.yaml").write_text(textwrap.dedent(TEMPLATE))
    return tmp_path


def create_task(*extra: str) -> str:
    result = run(
        "task", "create", "-n", "shop", "--name", "process_order", "-i", '{"order_id": 1}',
        "--format", "json", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["task_uuid"])


def test_create_prints_the_reference_labels_and_uses_the_default_store(project: Path) -> None:
    result = run("task", "create", "-n", "shop", "--name", "process_order", "-i", '{"order_id": 1}')
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✓ Created task ")
    assert lines[1].startswith("  Task UUID: ")
    assert "  Name: shop/process_order v1.0.0" in lines
    assert "  Status: pending" in lines
    assert "  Total Steps: 2" in lines
    assert (project / ".tasker" / "tasker.db").is_file()


def test_create_json_has_the_documented_keys() -> None:
    result = run(
        "task", "create", "-n", "shop", "--name", "process_order", "-i", '{"order_id": 1}',
        "--format", "json",
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert {"task_uuid", "status", "name", "namespace", "version", "steps"} <= data.keys()
    assert [step["name"] for step in data["steps"]] == ["validate", "charge"]


def test_create_reads_input_from_a_file_and_from_stdin(project: Path) -> None:
    (project / "input.json").write_text('{"order_id": 2}')
    from_file = run(
        "task", "create", "-n", "shop", "--name", "process_order", "-i", "@input.json", "-q"
    )
    assert from_file.exit_code == 0, from_file.output
    from_stdin = run(
        "task", "create", "-n", "shop", "--name", "process_order", "-i", "-", "-q",
        stdin='{"order_id": 3}',
    )  # fmt: skip
    assert from_stdin.exit_code == 0, from_stdin.output
    uuid = from_stdin.stdout.strip()
    status = json.loads(run("task", "status", uuid, "--format", "json").stdout)
    assert status["input"] == {"order_id": 3}


def test_invalid_input_exits_65_and_lists_each_path(project: Path) -> None:
    result = run(
        "task", "create", "-n", "shop", "--name", "process_order",
        "-i", '{"order_id": "one", "email": "nobody"}',
    )  # fmt: skip
    assert result.exit_code == 65
    assert '$.order_id: "one" is not of type "integer"' in result.stderr
    assert '$.email: "nobody" is not a "email"' in result.stderr
    assert result.stderr.startswith("error: ")
    assert not (project / ".tasker").exists()


def test_malformed_json_input_is_invalid_data() -> None:
    result = run("task", "create", "-n", "shop", "--name", "process_order", "-i", "{oops")
    assert result.exit_code == 65
    assert "--input is not valid JSON" in result.stderr


def test_an_unknown_template_exits_66() -> None:
    result = run("task", "create", "-n", "shop", "--name", "nope", "-i", "{}")
    assert result.exit_code == 66
    assert "Template 'shop/nope' not found" in result.stderr


def test_db_flag_and_environment_choose_the_store(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_task("--db", "custom.db")
    assert (project / "custom.db").is_file()
    monkeypatch.setenv("TASKER_CTL_DB", str(project / "env.db"))
    create_task()
    assert (project / "env.db").is_file()
    assert not (project / ".tasker").exists()


def test_status_text_follows_the_reference_wording() -> None:
    uuid = create_task()
    result = run("task", "status", uuid[:8])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Task Details"
    assert f"  UUID: {uuid}" in lines
    assert "  Steps: 0/2 completed" in lines
    assert "  Progress: 0.0%" in lines
    assert "  Health: healthy" in lines
    # The command to type (wrapped to the terminal's width), not Tasker's execute_ready_steps.
    flowing = " ".join(result.stdout.split())
    assert f"Recommended action: tasker-ctl task run {uuid} (run the ready steps)" in flowing
    assert "Steps:" in lines


def test_status_without_the_graph_wraps_lines_only_where_the_terminal_is_narrow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uuid = create_task()
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    wide = run("task", "status", uuid, "--no-graph")
    assert wide.exit_code == 0, wide.output
    assert wide.stdout.startswith(f"Task Details\n  UUID: {uuid}\n")
    assert "\n\nSteps:\n  • validate  pending  0/3\n" in wide.stdout
    assert wide.stdout.endswith("  • charge    pending  0/3\n\n")
    monkeypatch.setenv("COLUMNS", "20")
    narrow = run("task", "status", uuid, "--no-graph")
    assert narrow.exit_code == 0, narrow.output
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 20
    assert "".join(narrow.stdout.split()) == "".join(wide.stdout.split())


def test_status_of_a_large_task_leaves_the_graph_out_and_says_so(project: Path) -> None:
    steps = "".join(
        f"  - name: s{index}\n    handler: {{callable: big.Step}}\n"
        + (f"    dependencies: [s{index - 1}]\n" if index else "")
        for index in range(201)
    )
    header = "name: big\nnamespace_name: shop\nversion: 1.0.0\nsteps:\n"
    (project / "templates" / "big.yaml").write_text(header + steps)
    created = run("task", "create", "-n", "shop", "--name", "big", "-i", "{}", "-q")
    assert created.exit_code == 0, created.output
    result = run("task", "status", created.stdout.strip())
    assert result.exit_code == 0, result.output
    assert "(graph of 201 steps not drawn: --graph draws it)\n" in result.stdout
    assert "  • s200  pending  0/3" in result.stdout.splitlines()


def test_list_shows_each_task_with_status_progress_and_health() -> None:
    uuid = create_task()
    result = run("task", "list")
    assert result.exit_code == 0
    header, row = result.stdout.splitlines()
    assert header.split() == ["TASK", "TEMPLATE", "STATUS", "STEPS", "HEALTH", "CREATED"]
    assert row.split()[0] == uuid[:8] and "pending  0/2    healthy" in row
    listed = json.loads(run("task", "list", "--format", "json").stdout)
    assert [task["task_uuid"] for task in listed["tasks"]] == [uuid]


def test_list_without_a_store_finds_nothing_and_creates_nothing(project: Path) -> None:
    result = run("task", "list")
    assert result.exit_code == 0
    assert result.stdout.startswith("No tasks: there is no store at .tasker/tasker.db")
    assert not (project / ".tasker").exists()


def test_status_of_a_missing_task_exits_66() -> None:
    create_task()
    result = run("task", "status", "ffffffff")
    assert result.exit_code == 66
    assert result.stderr.startswith("error: no task 'ffffffff'")


def test_steps_step_and_audit() -> None:
    uuid = create_task()
    steps = run("task", "steps", uuid)
    assert steps.stdout.splitlines()[2].split()[:4] == ["charge", "pending", "0/3", "no"]
    step = run("task", "step", uuid, "charge")
    assert step.stdout.splitlines()[0] == "Step Details"
    assert "  Ready for execution: No" in step.stdout
    audit = json.loads(run("task", "audit", uuid, "--format", "json").stdout)
    assert [entry["to_state"] for entry in audit] == ["pending", "pending", "pending"]


def test_operator_commands_print_the_reference_messages(project: Path) -> None:
    uuid = create_task()
    with open_for_writing(project / ".tasker" / "tasker.db") as repo:
        step = next(s for s in repo.load_steps(uuid) if s.name == "validate")
        for event in ("enqueue", "start", "enqueue_as_error_for_orchestration"):
            repo.transition_step(StepChange(step.uuid, event))
        repo.transition_step(
            StepChange(step.uuid, "fail", outcome=AttemptOutcome(False, error={"message": "x"}))
        )
    reset = run("task", "reset-step", uuid, "validate", "--reason", "fixed")
    assert reset.exit_code == 0, reset.output
    assert reset.stdout.splitlines()[0] == "✓ Reset step validate to pending"
    assert "  New state: pending" in reset.stdout
    assert "  Reset by: cli-operator" in reset.stdout
    again = run("task", "reset-step", uuid, "validate")
    assert again.exit_code == 1
    assert "only a step in error can be reset" in again.stderr
    resolved = run("task", "resolve-step", uuid, "validate", "--reason", "by hand")
    assert resolved.stdout.splitlines()[0] == "✓ Resolved step validate by hand"
    completed = run(
        "task", "complete-step", uuid, "charge", "--result", '{"charged": true}', "--reason", "r",
    )  # fmt: skip
    assert completed.stdout.splitlines()[0] == "✓ Completed step charge by hand"
    cancel = run("task", "cancel", uuid)
    assert cancel.stdout.strip() == f"✓ Cancelled task {uuid}"
    refused = run("task", "cancel", uuid)
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[0] == "error: Cannot cancel a completed task"


def test_resolve_step_requires_a_reason() -> None:
    uuid = create_task()
    result = run("task", "resolve-step", uuid, "validate")
    assert result.exit_code == 2


def test_the_installed_entry_point_creates_and_reads_a_task(project: Path) -> None:
    env = {**os.environ, "TASKER_CTL_DB": str(project / "e2e.db")}
    command = [sys.executable, "-m", "tasker_ctl", "task"]
    created = subprocess.run(
        [*command, "create", "-n", "shop", "--name", "process_order", "-i", '{"order_id": 9}',
         "-q"],
        capture_output=True, text=True, env=env, cwd=project, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    uuid = created.stdout.strip()
    status = subprocess.run(
        [*command, "status", uuid, "--format", "json"],
        capture_output=True, text=True, env=env, cwd=project, check=False,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["input"] == {"order_id": 9}


# --- priority and description (Tasker's `task create -p/-d`) ---------------------------------


def test_priority_and_description_are_stored_and_shown() -> None:
    task = create_task("-p", "8", "-d", "Nightly re-run for order 1")
    status = run("task", "status", task, "--format", "json")
    assert status.exit_code == 0, status.output
    shown = json.loads(status.stdout)
    assert (shown["priority"], shown["description"]) == (8, "Nightly re-run for order 1")
    text = run("task", "status", task).stdout
    assert "  Priority: 8\n" in text
    assert "  Description: Nightly re-run for order 1\n" in text


def test_priority_defaults_to_five_and_is_checked() -> None:
    task = create_task()
    assert json.loads(run("task", "status", task, "--format", "json").stdout)["priority"] == 5
    result = run(
        "task", "create", "-n", "shop", "--name", "process_order", "-i", '{"order_id": 1}',
        "--priority", "11",
    )  # fmt: skip
    assert result.exit_code == 2


def test_a_store_from_before_priorities_is_migrated_and_keeps_its_tasks(project: Path) -> None:
    from sqlite_utils import Database

    from tasker_ctl.store.migrations import _build

    db_file = project / "old.db"
    _build().apply(Database(db_file), stop_before="0003_task_priority_description")
    with sqlite3.connect(db_file) as conn:
        conn.execute(
            "INSERT INTO template_snapshots (id, content_hash, namespace, name, version, snapshot,"
            " created_at) VALUES (1, 'h', 'shop', 'process_order', '1.0.0', '{}', 'now')"
        )
        conn.execute(
            "INSERT INTO tasks (uuid, namespace, name, version, template_id, state, input,"
            " created_at, updated_at) VALUES ('0199a46a-0000-7000-8000-000000000001', 'shop',"
            " 'process_order', '1.0.0', 1, 'pending', '{}', 'now', 'now')"
        )
    listed = run("task", "list", "--db", str(db_file), "--format", "json")
    assert listed.exit_code == 0, listed.output
    status = run("task", "status", "0199a46a", "--db", str(db_file), "--format", "json")
    assert status.exit_code == 0, status.output
    assert (json.loads(status.stdout)["priority"], json.loads(status.stdout)["description"]) == (
        5,
        None,
    )

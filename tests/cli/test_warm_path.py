"""The warm path of ``task create``: a template validated once is not parsed or validated again
while its file is unchanged (issue 13 §1), checked in real subprocesses.

Each test works in a project directory of its own (the handler module lives there) with a
cache directory of its own (``XDG_CACHE_HOME``).
"""

from __future__ import annotations

import importlib.metadata
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from subprocesses import subprocess_env

TEMPLATE = """\
name: warm
namespace_name: warm_tests
version: 1.0.0
input_schema:
  type: object
  required: [order_id]
  properties:
    order_id: {type: integer}
steps:
  - name: first
    handler: {callable: warm_handlers.first, initialization: {greeting: hello}}
  - name: second
    handler: {callable: warm_handlers.second}
    dependencies: [first]
"""

HANDLERS = """\
def first(context):
    return {"greeting": context.step_config.get("greeting")}


def second(context):
    return {"seen": context.get_dependency_result("first")}
"""

# Runs the command line in this process and writes the modules loaded by its end to a file.
DRIVER = """\
import atexit, json, sys

OUT = sys.argv[1]

def _write_modules():
    with open(OUT, "w") as stream:
        json.dump(sorted(sys.modules), stream)

atexit.register(_write_modules)
sys.argv = ["tasker-ctl", *sys.argv[2:]]
from tasker_ctl.cli import main

main()
"""

try:
    _TASKER_PY = bool(importlib.metadata.version("tasker-py"))
except importlib.metadata.PackageNotFoundError:
    _TASKER_PY = False
NOT_ON_THE_WARM_PATH: tuple[str, ...] = ("sqlite_utils", "tasker_ctl.template.models")
if not _TASKER_PY:
    # tasker-py's own tasker_core imports PyYAML and asyncio itself; tasker-ctl's does not, nor
    # the parts of its SDK that a plain handler does not use.
    NOT_ON_THE_WARM_PATH += ("yaml", "asyncio", "tasker_ctl.sdk.batch_processing")


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "templates" / "warm.yaml").write_text(TEMPLATE, encoding="utf-8")
    (project / "warm_handlers.py").write_text(HANDLERS, encoding="utf-8")
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")
    return project


def _create_run(
    tmp_path: Path, *, order_id: object = 7, modules: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``tasker-ctl task create ... --run --format json`` in the project, through the driver."""
    project = tmp_path / "project"
    arguments = [
        "task",
        "create",
        "--namespace",
        "warm_tests",
        "--name",
        "warm",
        "--input",
        json.dumps({"order_id": order_id}),
        "--db",
        str(project / "tasker.db"),
        "--run",
        "--format",
        "json",
    ]
    modules_file = modules or tmp_path / "modules.json"
    return subprocess.run(
        [sys.executable, str(tmp_path / "driver.py"), str(modules_file), *arguments],
        cwd=project,
        env=subprocess_env(XDG_CACHE_HOME=str(tmp_path / "cache")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _events(completed: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in completed.stdout.splitlines()]


def _cache_entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "tasker-ctl" / "templates").glob("*.json"))


def _result(db: Path, task_uuid: object, step: str) -> object:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT result FROM steps WHERE task_uuid = ? AND name = ?", (task_uuid, step)
        ).fetchone()
    return json.loads(row[0])


def _loaded(modules_file: Path) -> set[str]:
    return set(json.loads(modules_file.read_text(encoding="utf-8")))


def test_a_known_template_is_created_and_run_without_yaml_the_model_or_sqlite_utils(
    tmp_path: Path,
) -> None:
    _project(tmp_path)
    first = _create_run(tmp_path, modules=tmp_path / "cold.json")
    assert first.returncode == 0, first.stderr
    cold = _loaded(tmp_path / "cold.json")
    assert {"yaml", "tasker_ctl.template.models"} <= cold  # the first create validates

    second = _create_run(tmp_path, modules=tmp_path / "warm.json")

    assert second.returncode == 0, second.stderr
    warm = _loaded(tmp_path / "warm.json")
    assert sorted(warm & set(NOT_ON_THE_WARM_PATH)) == []
    assert not any(name.startswith(tuple(f"{m}." for m in NOT_ON_THE_WARM_PATH)) for name in warm)
    finished = _events(second)[-1]
    assert finished["type"] == "run_finished" and finished["status"] == "complete"


def test_the_warm_path_stores_what_the_full_path_stores(tmp_path: Path) -> None:
    _project(tmp_path)
    assert _create_run(tmp_path).returncode == 0
    assert _create_run(tmp_path).returncode == 0

    with sqlite3.connect(tmp_path / "project" / "tasker.db") as conn:
        snapshots = conn.execute("SELECT count(*) FROM template_snapshots").fetchone()[0]
        steps = conn.execute(
            "SELECT task_uuid, name, template_step_name, step_type, handler, retry, "
            "max_attempts, retryable, timeout_seconds, result FROM steps ORDER BY rowid"
        ).fetchall()
        edges = conn.execute(
            "SELECT f.name, t.name FROM step_edges e JOIN steps f ON f.uuid = e.from_step_uuid "
            "JOIN steps t ON t.uuid = e.to_step_uuid ORDER BY e.task_uuid = f.task_uuid"
        ).fetchall()
    assert snapshots == 1  # the same snapshot, byte for byte
    cold, warm = steps[:2], steps[2:]
    assert [row[1:] for row in cold] == [row[1:] for row in warm]
    assert json.loads(warm[1][-1]) == {"seen": {"greeting": "hello"}}
    assert edges == [("first", "second"), ("first", "second")]


def test_input_is_still_checked_against_the_input_schema_on_the_warm_path(
    tmp_path: Path,
) -> None:
    _project(tmp_path)
    assert _create_run(tmp_path).returncode == 0

    refused = _create_run(tmp_path, order_id="seven", modules=tmp_path / "refused.json")

    assert refused.returncode == 65, refused.stderr
    assert "$.order_id" in refused.stderr
    assert "tasker_ctl.template.models" not in _loaded(tmp_path / "refused.json")


def test_a_changed_template_file_is_validated_again(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert _create_run(tmp_path).returncode == 0
    template = project / "templates" / "warm.yaml"

    template.write_text(TEMPLATE.replace("dependencies: [first]", "dependencies: [frist]"))
    broken = _create_run(tmp_path, modules=tmp_path / "broken.json")

    assert broken.returncode == 65, broken.stderr
    assert "frist" in broken.stderr
    assert "tasker_ctl.template.models" in _loaded(tmp_path / "broken.json")

    template.write_text(TEMPLATE.replace("greeting: hello", "greeting: bonjour"))
    changed = _create_run(tmp_path)

    assert changed.returncode == 0, changed.stderr
    task_uuid = _events(changed)[0]["task_uuid"]
    assert _result(project / "tasker.db", task_uuid, "second") == {"seen": {"greeting": "bonjour"}}


def test_a_corrupt_cache_entry_is_ignored_and_replaced(tmp_path: Path) -> None:
    _project(tmp_path)
    assert _create_run(tmp_path).returncode == 0
    (entry,) = _cache_entries(tmp_path)
    good = entry.read_text(encoding="utf-8")

    for damage in (
        good[: len(good) // 2],
        "\x00\xff not json",
        json.dumps({**json.loads(good), "steps": "x"}),
    ):
        entry.write_text(damage, encoding="utf-8", errors="surrogateescape")
        completed = _create_run(tmp_path, modules=tmp_path / "after.json")

        assert completed.returncode == 0, completed.stderr
        assert _events(completed)[-1]["status"] == "complete"
        assert "tasker_ctl.template.models" in _loaded(tmp_path / "after.json")  # full path
        assert json.loads(entry.read_text(encoding="utf-8")) == json.loads(good)


def test_an_unwritable_cache_directory_costs_only_the_warm_path(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "cache").write_text("a file where the cache directory would go")

    for _ in range(2):
        completed = _create_run(tmp_path)
        assert completed.returncode == 0, completed.stderr
        assert _events(completed)[-1]["status"] == "complete"

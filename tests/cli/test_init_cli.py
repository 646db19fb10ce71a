"""``tasker-ctl init``: the files it writes, its refusal to overwrite, and a project that runs.

The end-to-end test follows the README: ``init`` in an empty directory, then ``task create`` and
``task run`` from there, as real subprocesses of ``python -m tasker_ctl``; the project file
provides the template path, the handler package and the store.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from subprocesses import run_tasker_ctl
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app
from tasker_ctl.config import load_project_config

EXAMPLE_FILES = [
    ".config/tasker.toml",
    ".config/tasker-template.schema.json",
    "handlers/__init__.py",
    "templates/hello_world.yaml",
    "handlers/hello_world.py",
    "tests/test_hello_world.py",
    ".vscode/settings.json",
]
SCHEMA_FILE = ".config/tasker-template.schema.json"
TEMPLATE_GLOBS = ["templates/**/*.yaml", "templates/**/*.yml"]


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed entry point, run as a user would, from ``cwd``."""
    return run_tasker_ctl(*args, cwd=cwd)


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_init_prints_each_file_and_the_next_commands(tmp_path: Path) -> None:
    result = run("init")
    assert result.exit_code == 0, result.output
    created = [line for line in result.stdout.splitlines() if line.startswith("✓ Created ")]
    assert created == [f"✓ Created {name}" for name in EXAMPLE_FILES]
    assert "Next:\n  tasker-ctl template validate templates\n" in result.stdout
    assert (
        "  tasker-ctl task create --namespace examples --name hello_world "
        '--input \'{"name": "Tasker"}\'\n'
    ) in result.stdout
    for name in EXAMPLE_FILES:
        assert (tmp_path / name).is_file()


def test_the_project_file_configures_templates_handlers_and_store(tmp_path: Path) -> None:
    assert run("init").exit_code == 0
    config = load_project_config(tmp_path)
    assert config.template_paths == (tmp_path / "templates",)
    assert config.handler_packages == ("handlers",)
    assert config.db == tmp_path / ".tasker" / "tasker.db"
    assert config.default_language == "python"


def test_the_example_template_is_valid() -> None:
    assert run("init").exit_code == 0
    result = run("template", "validate", "templates")
    assert result.exit_code == 0, result.output


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "__init__.py").write_text("# mine\n", encoding="utf-8")
    result = run("init")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: init: already exists: handlers/__init__.py; nothing was written\n"
    )
    assert (tmp_path / "handlers" / "__init__.py").read_text(encoding="utf-8") == "# mine\n"
    assert not (tmp_path / ".config" / "tasker.toml").exists()


def test_no_example_writes_only_the_layout(tmp_path: Path) -> None:
    result = run("init", "--no-example")
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        ".config",
        ".config/tasker-template.schema.json",
        ".config/tasker.toml",
        ".vscode",
        ".vscode/settings.json",
        "handlers",
        "handlers/__init__.py",
        "templates",
    ]
    assert "✓ Created templates/\n" in result.stdout


def test_init_writes_upstreams_unified_file_with_the_contrib_remote(tmp_path: Path) -> None:
    assert run("init", "--no-example").exit_code == 0
    written = tomllib.loads((tmp_path / ".config" / "tasker.toml").read_text(encoding="utf-8"))
    assert written["profile"]["default"]["orchestration"]["base_url"] == "http://localhost:8080"
    assert written["profile"]["default"]["worker"]["base_url"] == "http://localhost:8081"
    assert written["cli"]["remotes"] == [
        {"name": "tasker-contrib", "url": "https://github.com/tasker-systems/tasker-contrib.git"}
    ]


def test_no_contrib_leaves_the_remote_out(tmp_path: Path) -> None:
    assert run("init", "--no-example", "--no-contrib").exit_code == 0
    written = tomllib.loads((tmp_path / ".config" / "tasker.toml").read_text(encoding="utf-8"))
    assert "remotes" not in written["cli"]


def test_init_beside_a_legacy_file_warns_that_the_new_file_wins(tmp_path: Path) -> None:
    (tmp_path / ".tasker-ctl.toml").write_text('default-language = "python"\n', encoding="utf-8")
    result = run("init", "--no-example")
    assert result.exit_code == 0, result.output
    assert "legacy" in result.stderr
    assert load_project_config(tmp_path).file == tmp_path / ".config" / "tasker.toml"


def test_init_into_a_new_directory_says_to_cd_there(tmp_path: Path) -> None:
    result = run("init", "project")
    assert result.exit_code == 0, result.output
    assert "Next:\n  cd project\n" in result.stdout
    assert (tmp_path / "project" / ".config" / "tasker.toml").is_file()


@pytest.mark.slow
def test_an_initialised_project_runs_its_example_workflow(tmp_path: Path) -> None:
    init = cli(tmp_path, "init")
    assert init.returncode == 0, init.stderr
    created = cli(
        tmp_path, "task", "create", "--namespace", "examples", "--name", "hello_world",
        "--input", '{"name": "Ada"}',
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    task = next(
        line.split(": ", 1)[1]
        for line in created.stdout.splitlines()
        if line.startswith("  Task UUID: ")
    )
    ran = cli(tmp_path, "task", "run", task)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "complete: 4/4 steps" in ran.stdout
    step = cli(tmp_path, "task", "step", task, "summarize", "--format", "json")
    assert json.loads(step.stdout)["result"] == {"summary": "HELLO, ADA! (8 letters)"}
    assert (tmp_path / ".tasker" / "tasker.db").is_file()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr


# --- the editor schema, wired for VS Code -----------------------------------------------------


def _settings(tmp_path: Path) -> Any:
    return json.loads((tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8"))


def test_init_writes_the_template_schema_and_maps_it_to_the_templates(tmp_path: Path) -> None:
    assert run("init").exit_code == 0

    written = json.loads((tmp_path / SCHEMA_FILE).read_text(encoding="utf-8"))
    printed = run("template", "schema")
    assert printed.exit_code == 0, printed.output
    assert written == json.loads(printed.stdout)
    assert _settings(tmp_path) == {"yaml.schemas": {SCHEMA_FILE: TEMPLATE_GLOBS}}
    # The schema the editor gets accepts the example template init writes.
    example = yaml.safe_load((tmp_path / "templates" / "hello_world.yaml").read_text("utf-8"))
    jsonschema_rs.validator_for(written).validate(example)


def test_an_existing_settings_file_is_merged_keeping_every_key(tmp_path: Path) -> None:
    (tmp_path / ".vscode").mkdir()
    mine = {
        "editor.tabSize": 2,
        "yaml.schemas": {"other.schema.json": "ci/*.yaml", SCHEMA_FILE: ["flows/*.yaml"]},
    }
    (tmp_path / ".vscode" / "settings.json").write_text(json.dumps(mine), encoding="utf-8")

    result = run("init", "--no-example")

    assert result.exit_code == 0, result.output
    assert _settings(tmp_path) == {
        "editor.tabSize": 2,
        "yaml.schemas": {
            "other.schema.json": "ci/*.yaml",
            SCHEMA_FILE: ["flows/*.yaml", *TEMPLATE_GLOBS],
        },
    }
    assert "Created .vscode/settings.json" not in result.stdout
    assert "added the template schema to yaml.schemas in .vscode/settings.json" in result.stderr


def test_a_settings_file_with_comments_is_left_as_it_is_with_the_entry_to_add(
    tmp_path: Path,
) -> None:
    (tmp_path / ".vscode").mkdir()
    text = '{\n    // mine\n    "editor.tabSize": 2,\n}\n'
    (tmp_path / ".vscode" / "settings.json").write_text(text, encoding="utf-8")

    result = run("init", "--no-example")

    assert result.exit_code == 0, result.output
    assert (tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8") == text
    assert "left .vscode/settings.json as it is: it is not plain JSON" in result.stderr
    assert f'{{"yaml.schemas": {{"{SCHEMA_FILE}": ' in result.stderr
    assert (tmp_path / SCHEMA_FILE).is_file()


def test_a_refused_init_leaves_the_settings_file_untouched(tmp_path: Path) -> None:
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "settings.json").write_text('{"a": 1}', encoding="utf-8")
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "__init__.py").write_text("# mine\n", encoding="utf-8")

    assert run("init").exit_code == 1
    assert (tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8") == '{"a": 1}'
    assert not (tmp_path / SCHEMA_FILE).exists()


def test_settings_that_already_map_the_schema_are_left_alone(tmp_path: Path) -> None:
    assert run("init", "--no-example").exit_code == 0
    for name in (".config/tasker.toml", SCHEMA_FILE, "handlers/__init__.py"):
        (tmp_path / name).unlink()
    before = (tmp_path / ".vscode" / "settings.json").read_bytes()

    result = run("init", "--no-example")

    assert result.exit_code == 0, result.output
    assert (tmp_path / ".vscode" / "settings.json").read_bytes() == before
    assert "settings.json" not in result.output

"""Config files as upstream tasker-ctl finds and writes them: search order, first-found rule,
relative paths, keys upstream writes, ``config show``, and ``-c``/``-v``/``-p``.

The project in ``upstream_project`` is laid out the way upstream ``tasker-ctl init`` lays it out
(``.config/tasker.toml`` with ``[profile.default]``, ``[cli]`` and ``[[cli.remotes]]``); every
command is run against it from a subdirectory.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from subprocesses import run_tasker_ctl
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app
from tasker_ctl.config import find_config, load_project_config

UNIFIED = """
# as upstream `tasker-ctl init` writes it, plus tasker-ctl's keys under [cli]
[profile.default]
description = "Local development"
transport = "rest"

[profile.default.orchestration]
base_url = "http://localhost:8080"
timeout_ms = 30000
max_retries = 3

[profile.default.worker]
base_url = "http://localhost:8081"

[cli]
plugin-paths = ["./plugins"]
template-paths = ["config/tasker/templates"]
handler-packages = ["project_handlers"]
db = ".tasker/store.db"
default-language = "python"
cache-max-age-hours = 24

[[cli.remotes]]
name = "tasker-contrib"
url = "https://github.com/tasker-systems/tasker-contrib.git"
"""

TEMPLATE = """
name: greet
namespace_name: demo
version: "1.0.0"
steps:
  - name: hello
    handler: {callable: demo.hello}
    result_schema: {type: object}
  - name: shout
    handler: {callable: demo.shout}
    dependencies: [hello]
    result_schema: {type: object}
"""

HANDLERS = """
from tasker_core.step_handler.functional import depends_on, step_handler


@step_handler("demo.hello")
def hello():
    return {"text": "hello"}


@step_handler("demo.shout")
@depends_on(hello_result="hello")
def shout(hello_result):
    return {"text": hello_result["text"].upper()}
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No personal settings: an empty home directory (the variables are conftest's to clear)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def upstream_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    write(project / ".config" / "tasker.toml", UNIFIED)
    write(project / "config" / "tasker" / "templates" / "greet.yaml", TEMPLATE)
    write(project / "project_handlers" / "__init__.py", HANDLERS)
    (project / "plugins").mkdir()
    (project / "work").mkdir()
    monkeypatch.chdir(project / "work")
    monkeypatch.syspath_prepend(str(project))
    return project


# --- discovery -------------------------------------------------------------------------------


def test_the_unified_file_wins_over_the_standalone_one_in_the_same_directory(
    tmp_path: Path,
) -> None:
    write(tmp_path / ".tasker-ctl.toml", 'default-language = "ruby"\n')
    write(tmp_path / ".config" / "tasker.toml", '[cli]\ndefault-language = "python"\n')
    config = load_project_config(tmp_path)
    assert config.file == tmp_path / ".config" / "tasker.toml"
    assert config.default_language == "python"


def test_the_first_file_found_is_the_only_one_read(tmp_path: Path) -> None:
    # A unified file without [cli] still wins: its [cli] defaults apply, as upstream.
    write(tmp_path / ".tasker-ctl.toml", 'default-language = "python"\n')
    write(tmp_path / ".config" / "tasker.toml", '[profile.default]\ntransport = "rest"\n')
    config = load_project_config(tmp_path)
    assert config.file == tmp_path / ".config" / "tasker.toml"
    assert config.default_language is None
    assert config.profiles == ("default",)


def test_the_nearest_directory_wins_and_parents_are_searched(tmp_path: Path) -> None:
    write(tmp_path / ".config" / "tasker.toml", '[cli]\nenvironment = "outer"\n')
    write(tmp_path / "inner" / ".tasker-ctl.toml", 'environment = "inner"\n')
    (tmp_path / "inner" / "deep").mkdir()
    assert load_project_config(tmp_path / "inner" / "deep").environment == "inner"
    assert load_project_config(tmp_path).environment == "outer"


def test_the_user_file_is_the_last_resort(tmp_path: Path) -> None:
    user_file = write(tmp_path / "home" / ".config" / "tasker-ctl.toml", 'environment = "u"\n')
    (tmp_path / "elsewhere").mkdir()
    config = load_project_config(tmp_path / "elsewhere")
    assert (config.file, config.environment) == (user_file, "u")


def test_relative_paths_in_the_unified_file_are_relative_to_the_project(tmp_path: Path) -> None:
    write(tmp_path / ".config" / "tasker.toml", UNIFIED)
    config = load_project_config(tmp_path)
    assert config.plugin_paths == (tmp_path / "plugins",)
    assert config.template_paths == (tmp_path / "config" / "tasker" / "templates",)
    assert config.db == tmp_path / ".tasker" / "store.db"


def test_find_config_returns_the_whole_document_for_other_readers(tmp_path: Path) -> None:
    write(tmp_path / ".config" / "tasker.toml", UNIFIED)
    found = find_config(start=tmp_path)
    assert found is not None
    assert found.base == tmp_path.resolve()
    assert found.data["profile"]["default"]["worker"]["base_url"] == "http://localhost:8081"


# --- keys upstream writes, near misses -------------------------------------------------------

LEGACY_WITH_REMOTES = """
plugin-paths = ["./plugins"]
cache-max-age-hours = 48

[[remotes]]
name = "tasker-contrib"
url = "https://github.com/tasker-systems/tasker-contrib.git"
git-ref = "main"
"""


def test_keys_upstream_writes_are_accepted_by_plugin_list_and_task_list(tmp_path: Path) -> None:
    write(tmp_path / ".tasker-ctl.toml", LEGACY_WITH_REMOTES)
    (tmp_path / "plugins").mkdir()
    for command in (("plugin", "list"), ("task", "list")):
        result = run_tasker_ctl(*command, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr and "!" not in result.stderr


def test_a_near_miss_of_a_key_warns_once_on_stderr(tmp_path: Path) -> None:
    write(tmp_path / ".tasker-ctl.toml", 'handler_packages = ["x"]\nsomething-else = 1\n')
    # `task create` reads the config twice: for the template path and for the store.
    result = run_tasker_ctl("task", "create", "-n", "x", "--name", "y", "-i", "{}", cwd=tmp_path)
    assert result.returncode == 66, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "handler_packages" in line]
    assert len(warnings) == 1
    assert "did you mean 'handler-packages'?" in warnings[0]
    assert "something-else" not in result.stderr


def test_a_setting_at_the_top_of_the_unified_file_is_pointed_under_cli(tmp_path: Path) -> None:
    write(tmp_path / ".config" / "tasker.toml", 'db = "x.db"\n[cli]\n')
    config = load_project_config(tmp_path)
    assert config.db is None
    assert config.warnings == (
        f"{tmp_path / '.config' / 'tasker.toml'}: 'db' at the top level is ignored; "
        "move it under [cli]",
    )


# --- config show, -c, -v, -p ---------------------------------------------------------------


def test_config_show_names_each_setting_and_its_source(upstream_project: Path) -> None:
    result = run("config", "show", "--format", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    source = str(upstream_project / ".config" / "tasker.toml")
    assert shown["config_file"] == source
    settings = shown["settings"]
    assert settings["db"] == [{"value": str(upstream_project / ".tasker" / "store.db"),
                              "source": source}]  # fmt: skip
    assert settings["template-paths"][0] == {
        "value": str(upstream_project / "config" / "tasker" / "templates"),
        "source": source,
    }
    assert settings["template-paths"][1] == {"value": "templates", "source": "default"}
    assert settings["plugin-paths"][-1]["source"] == "bundled"
    assert settings["remotes"] == [{"value": "tasker-contrib", "source": source}]
    assert settings["profiles"] == [{"value": "default", "source": source}]
    text = run("config", "show")
    assert f"Config file: {source}\n" in text.stdout
    assert f"  default-language: python  [{source}]\n" in text.stdout


def test_environment_variables_win_over_the_file_in_config_show(
    upstream_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKER_CTL_DB", "/elsewhere.db")
    result = run("config", "show")
    assert "  db: /elsewhere.db  [$TASKER_CTL_DB]\n" in result.stdout


def test_dash_c_reads_the_named_file_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".tasker-ctl.toml", 'environment = "found"\n')
    named = write(tmp_path / "other.toml", '[cli]\nenvironment = "named"\n')
    result = run("-c", str(named), "config", "show", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["settings"]["environment"][0]["value"] == "named"
    missing = run("--config", "nope.toml", "task", "list")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("error: config file not found: nope.toml\n")


def test_dash_c_works_in_a_subprocess_before_the_command_name(tmp_path: Path) -> None:
    named = write(tmp_path / "other.toml", 'environment = "named"\n')
    result = run_tasker_ctl("-c", str(named), "-v", "config", "show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  environment: named" in result.stdout
    assert f"config file: {named}" in result.stderr


def test_a_profile_that_is_not_defined_is_refused_clearly(tmp_path: Path) -> None:
    result = run_tasker_ctl("--profile", "staging", "task", "list", cwd=tmp_path)
    assert result.returncode == 66
    assert result.stderr.startswith("error: no profile 'staging'")


# --- a project laid out the way upstream `init` lays it out ------------------------------------


def test_every_command_works_in_an_upstream_layout(upstream_project: Path) -> None:
    templates = str(upstream_project / "config" / "tasker" / "templates")
    template = f"{templates}/greet.yaml"
    for command in (
        ("config", "show"),
        ("template", "validate", templates, "--strict"),
        ("template", "inspect", template),
        ("template", "graph", template),
        ("template", "visualize", template),
        ("template", "list"),
        ("template", "info", "step_handler"),
        ("plugin", "list"),
        ("generate", "types", "--template", template),
        ("task", "list"),
    ):
        result = run(*command)
        assert result.exit_code == 0, (command, result.output)
    created = run("task", "create", "-n", "demo", "--name", "greet", "-i", "{}", "--run",
                  "--format", "json")  # fmt: skip
    assert created.exit_code == 0, created.output
    task = json.loads(created.stdout.splitlines()[0])["task_uuid"]
    assert (upstream_project / ".tasker" / "store.db").is_file()
    for command, code in (
        (("task", "status", task), 0),
        (("task", "steps", task), 0),
        (("task", "step", task, "shout"), 0),
        (("task", "audit", task, "shout"), 0),
        (("task", "visualize", task), 0),
        (("task", "retry", task), 1),  # the task is complete: no step in error to retry
    ):
        result = run(*command)
        assert result.exit_code == code, (command, result.output)
        assert "Traceback" not in result.output
    generated = run("template", "generate", "step_handler", "--param", "name=Thing",
                    "--output", str(upstream_project / "gen"))  # fmt: skip
    assert generated.exit_code == 0, generated.output

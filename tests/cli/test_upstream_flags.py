"""Flags upstream tasker-ctl accepts, with upstream's meaning: ``template visualize`` (markdown by
default, ``--graph-only``), ``task visualize --base-url/--graph-only`` and ``template list
-f/--framework``. (``task create -p/-d`` are in test_task_cli, ``init --no-contrib`` in
test_init_cli, the global ``-c/-v/-p`` in test_config_files.)"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app

TEMPLATE = """
name: greet
namespace_name: demo
version: "1.0.0"
steps:
  - name: hello
    handler: {callable: demo.hello}
  - name: shout
    handler: {callable: demo.shout}
    dependencies: [hello]
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "greet.yaml").write_text(textwrap.dedent(TEMPLATE))
    return tmp_path


def test_template_visualize_defaults_to_the_markdown_document() -> None:
    default = run("template", "visualize", "templates/greet.yaml")
    assert default.exit_code == 0, default.output
    assert default.stdout.startswith("# greet\n\n```mermaid\ngraph TD\n")
    assert "\n## Step Details\n" in default.stdout
    assert (
        default.stdout
        == run("template", "visualize", "templates/greet.yaml", "-f", "markdown").stdout
    )


def test_template_visualize_graph_only_is_the_bare_graph() -> None:
    bare = run("template", "visualize", "templates/greet.yaml", "--graph-only")
    assert bare.exit_code == 0, bare.output
    assert bare.stdout.startswith("graph TD\n")
    assert "```" not in bare.stdout and "Step Details" not in bare.stdout
    assert (
        bare.stdout == run("template", "visualize", "templates/greet.yaml", "-f", "mermaid").stdout
    )


def _task() -> str:
    created = run("task", "create", "-n", "demo", "--name", "greet", "-i", "{}", "--format", "json")
    assert created.exit_code == 0, created.output
    return str(json.loads(created.stdout)["task_uuid"])


def test_task_visualize_markdown_is_laid_out_as_upstreams() -> None:
    task = _task()
    document = run("task", "visualize", task, "-f", "markdown").stdout
    assert document.startswith("# greet\n\n```mermaid\ngraph TD\n")
    assert (
        "```\n\n## Step Details\n\n**Task**: greet | **Namespace**: demo | **Version**: 1.0.0\n"
    ) in document
    assert "| Step | Type | Handler | State | Duration | Attempts | Error |\n" in document
    assert "Link" not in document and "/v1/tasks/" not in document


def test_task_visualize_graph_only_leaves_the_details_out() -> None:
    task = _task()
    document = run("task", "visualize", task, "-f", "markdown", "--graph-only").stdout
    assert document.startswith("# greet\n\n```mermaid\ngraph TD\n")
    assert document.endswith("```\n")
    assert "Step Details" not in document


def test_task_visualize_base_url_links_the_task_and_its_steps() -> None:
    task = _task()
    steps = json.loads(run("task", "steps", task, "--format", "json").stdout)
    hello = next(step for step in steps if step["name"] == "hello")["step_uuid"]
    document = run(
        "task", "visualize", task, "-f", "markdown", "--base-url", "https://tasker.example/"
    ).stdout
    assert f"[Task Detail](https://tasker.example/v1/tasks/{task})\n" in document
    assert "| Step | Type | Handler | State | Duration | Attempts | Error | Link |\n" in document
    assert "|------|------|---------|-------|----------|----------|-------|------|\n" in document
    assert f"[view](https://tasker.example/v1/tasks/{task}/workflow_steps/{hello}) |" in document


def write_plugin(directory: Path, *, name: str, framework: str | None = None) -> None:
    """A plugin with one template, ``simple``."""
    template_dir = directory / "templates" / "simple"
    template_dir.mkdir(parents=True)
    (template_dir / "template.toml").write_text(
        'name = "simple"\ndescription = "d"\n[[outputs]]\ntemplate = "f.tera"\nfilename = "f"\n'
    )
    (template_dir / "f.tera").write_text("x\n")
    framework_line = f'framework = "{framework}"\n' if framework else ""
    (directory / "tasker-plugin.toml").write_text(
        f'[plugin]\nname = "{name}"\nversion = "1.0.0"\ndescription = "d"\n'
        f'language = "python"\n{framework_line}[[templates]]\nname = "simple"\n'
        'path = "templates/simple"\ndescription = "d"\n'
    )


def test_template_list_filters_by_framework(tmp_path: Path) -> None:
    write_plugin(tmp_path / "django", name="py-django", framework="django")
    write_plugin(tmp_path / "plain", name="py-plain")
    paths = ["--plugin-path", str(tmp_path / "django"), "--plugin-path", str(tmp_path / "plain")]
    result = run("template", "list", "-f", "Django", *paths)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Available templates:\n  • simple [python/django] (plugin: py-django)\n"
    both = run("template", "list", "--language", "python", "--framework", "django", *paths)
    assert both.stdout == result.stdout

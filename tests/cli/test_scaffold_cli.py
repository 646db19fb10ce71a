"""``template list|info|generate`` and ``plugin list|validate`` through the command line.

The end-to-end test runs the generated pytest files in a subprocess. It needs a ``tasker_core``
implementation: the one importable here (tasker-py, or tasker-ctl's own through its pytest
plugin), else the interpreter named by ``$TASKER_PY_PYTHON`` (a venv with tasker-py); with
neither it is skipped.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app

BUNDLED_PLUGIN = Path(__file__).resolve().parents[2] / "scaffolds" / "python"

# CI's fixed parameters for the contrib templates (reference §11), plus ProcessPayment.
HANDLER_GENERATIONS = [
    ("step_handler", "ProcessPayment"),
    ("step_handler", "TestProcessor"),
    ("step_handler_api", "FetchUser"),
    ("step_handler_decision", "RouteOrder"),
    ("step_handler_batchable", "ProcessBatch"),
]
API_TEST_COUNT = 4
GENERATED_TEST_COUNT = 3 + 3 + API_TEST_COUNT + 4 + 6


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own directory, away from any project's .tasker-ctl.toml."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding every bundled template's output, generated through the CLI."""
    out = tmp_path_factory.mktemp("generated")
    for template, name in HANDLER_GENERATIONS:
        result = run("template", "generate", template, "-p", f"name={name}", "-o", str(out))
        assert result.exit_code == 0, result.output
    result = run(
        "template", "generate", "task_template", "-o", str(out),
        "-p", "name=ProcessOrder", "-p", "handler_callable=process_order",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _python_with_tasker_core() -> str | None:
    if importlib.util.find_spec("tasker_core") is not None:
        return sys.executable
    external = os.environ.get("TASKER_PY_PYTHON")
    return external if external and Path(external).is_file() else None


def test_template_list_shows_the_bundled_templates() -> None:
    result = run("template", "list")

    assert result.exit_code == 0
    assert result.stdout == (
        "Available templates:\n"
        "  • step_handler [python/-] (plugin: tasker-ctl-python)\n"
        "  • step_handler_api [python/-] (plugin: tasker-ctl-python)\n"
        "  • step_handler_decision [python/-] (plugin: tasker-ctl-python)\n"
        "  • step_handler_batchable [python/-] (plugin: tasker-ctl-python)\n"
        "  • task_template [python/-] (plugin: tasker-ctl-python)\n"
    )


def test_template_list_with_no_match_says_so_on_stderr() -> None:
    result = run("template", "list", "--language", "cobol")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "! no templates found\n"


def test_template_info_lists_parameters_and_outputs() -> None:
    result = run("template", "info", "task_template")

    assert result.exit_code == 0
    assert result.stdout == (
        "Template: task_template\n"
        "  A one-step task template (YAML) calling an existing handler\n"
        "Plugin: tasker-ctl-python (v0.1.0) [python/-]\n"
        "Parameters:\n"
        "  --param name=Task name, e.g. ProcessOrder (the file and task are named process_order)"
        " (required)\n"
        "  --param namespace=Namespace of the task (letters, digits, _; at most 29 characters)"
        " [default: default]\n"
        "  --param handler_callable=handler.callable of the step: a handler name"
        " (e.g. process_order) or module.Class (required)\n"
        "Outputs:\n"
        "  • {{ name | snake_case }}.yaml\n"
    )


def test_generate_step_handler_writes_the_handler_and_its_test(tmp_path: Path) -> None:
    result = run("template", "generate", "step_handler", "--param", "name=ProcessPayment")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "✓ Wrote handlers/process_payment_handler.py\n"
        "✓ Wrote handlers/tests/test_process_payment_handler.py\n"
        "✓ Wrote handlers/__init__.py\n"
        "✓ Wrote handlers/tests/__init__.py\n"
        "✓ Wrote 4 files from template 'step_handler'\n"
    )
    handler = (tmp_path / "handlers" / "process_payment_handler.py").read_text()
    assert '@step_handler("process_payment")' in handler
    assert "def handle_process_payment(" in handler


@pytest.mark.slow
def test_the_generated_tests_pass_with_pytest(generated: Path) -> None:
    python = _python_with_tasker_core()
    if python is None:
        pytest.skip("no tasker_core implementation (install tasker-py or set TASKER_PY_PYTHON)")

    completed = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(generated)],
        cwd=generated,
        env={**os.environ, "RUST_LOG": "warn", "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"{GENERATED_TEST_COUNT} passed" in completed.stdout


def test_the_generated_code_passes_ruff(generated: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.is_file():
        pytest.skip("ruff is not installed next to this Python")

    completed = subprocess.run(
        [str(ruff), "check", "--isolated", "--select", "E,F,I,UP,W", "--ignore", "E501,F841",
         "--target-version", "py311", str(generated)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_generated_task_template_is_a_valid_modern_template(generated: Path) -> None:
    path = generated / "process_order.yaml"
    template = yaml.safe_load(path.read_text())

    assert template["name"] == "process_order"
    assert template["namespace_name"] == "default"
    assert template["version"] == "1.0.0"
    assert "task_handler" not in template
    jsonschema_rs.meta.validate(template["input_schema"])
    assert template["input_schema"]["type"] == "object"
    [step] = template["steps"]
    assert step["handler"] == {"callable": "process_order"}
    assert step["timeout_seconds"] == 30
    assert step["retry"]["max_attempts"] == 3
    assert run("template", "validate", str(path)).exit_code == 0


@pytest.mark.parametrize(
    "params",
    [
        ["name=../../evil"],
        ["name=/tmp/tasker-ctl-evil"],
        ["name=Ok", "module_name=../evil"],
        ["name=Ok", "module_name=/tmp/x"],
    ],
)
def test_bundled_templates_refuse_path_like_values(tmp_path: Path, params: list[str]) -> None:
    result = run("template", "generate", "step_handler", *(f"--param={p}" for p in params))

    assert result.exit_code == 2
    assert "does not match" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def raw_name_plugin(tmp_path: Path) -> Path:
    """A plugin that puts a parameter into a file name unfiltered, as a careless one might."""
    root = tmp_path / "raw-plugin"
    template_dir = root / "templates" / "raw"
    template_dir.mkdir(parents=True)
    (root / "tasker-plugin.toml").write_text(
        '[plugin]\nname = "raw"\nversion = "1.0.0"\ndescription = "d"\nlanguage = "text"\n'
        '[[templates]]\nname = "raw"\npath = "templates/raw"\ndescription = "d"\n'
    )
    (template_dir / "template.toml").write_text(
        'name = "raw"\ndescription = "d"\n'
        '[[parameters]]\nname = "name"\ndescription = "d"\nrequired = true\n'
        '[[outputs]]\ntemplate = "f.tera"\nfilename = "{{ name }}.txt"\n'
    )
    (template_dir / "f.tera").write_text("{{ name }}\n")
    return root


@pytest.mark.parametrize("name", ["../../evil", "/tmp/tasker-ctl-evil"])
def test_a_path_outside_the_output_is_refused_and_nothing_is_written(
    tmp_path: Path, raw_name_plugin: Path, name: str
) -> None:
    out = tmp_path / "out"

    result = run(
        "template", "generate", "raw", "-p", f"name={name}", "-o", str(out),
        "--plugin-path", str(raw_name_plugin),
    )  # fmt: skip

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: refusing to write '{name}.txt'")
    assert not out.exists()
    assert not (tmp_path.parent / "evil.txt").exists()
    assert not Path("/tmp/tasker-ctl-evil.txt").exists()


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    args = ("template", "generate", "step_handler", "-p", "name=ProcessPayment")
    assert run(*args).exit_code == 0
    handler = tmp_path / "handlers" / "process_payment_handler.py"
    handler.write_text("# my edits\n")

    refused = run(*args)

    assert refused.exit_code == 1
    assert refused.stdout == ""
    assert refused.stderr == (
        "error: not overwriting existing files: handlers/process_payment_handler.py, "
        "handlers/tests/test_process_payment_handler.py\n"
        "hint: pass --force to overwrite, or choose another --output directory\n"
    )
    assert handler.read_text() == "# my edits\n"

    forced = run(*args, "--force")

    assert forced.exit_code == 0
    assert "✓ Wrote 2 files from template 'step_handler'" in forced.stdout
    assert "step_handler(" in handler.read_text()


def test_dry_run_lists_the_files_and_writes_nothing(tmp_path: Path) -> None:
    result = run("template", "generate", "step_handler", "-p", "name=ProcessPayment", "--dry-run")

    assert result.exit_code == 0
    assert result.stdout == (
        "Dry run: template 'step_handler' would write 4 files:\n"
        "  • Would create: handlers/process_payment_handler.py\n"
        "  • Would create: handlers/tests/test_process_payment_handler.py\n"
        "  • Would create: handlers/__init__.py\n"
        "  • Would create: handlers/tests/__init__.py\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_parameter_gets_a_suggestion() -> None:
    result = run("template", "generate", "step_handler", "-p", "nmae=ProcessPayment")

    assert result.exit_code == 2
    assert result.stderr == (
        "error: unknown parameter 'nmae' for template 'step_handler' (did you mean 'name'?)\n"
        "hint: its parameters are: name, module_name\n"
    )


def test_a_missing_required_parameter_is_named() -> None:
    result = run("template", "generate", "task_template", "-p", "name=ProcessOrder")

    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: Parameter validation failed: missing required parameter: handler_callable\n"
    )
    assert "tasker-ctl template info task_template" in result.stderr


def test_a_malformed_parameter_is_a_usage_error() -> None:
    result = run("template", "generate", "step_handler", "-p", "ProcessPayment")

    assert result.exit_code == 2
    assert "invalid parameter format: 'ProcessPayment'. Expected key=value" in result.stderr


def test_an_unknown_template_is_not_found() -> None:
    result = run("template", "generate", "step_handlr", "-p", "name=X")

    assert result.exit_code == 66
    assert result.stderr.startswith(
        "error: Template 'step_handlr' not found. (did you mean 'step_handler'?)\n"
    )


@pytest.fixture
def contrib_checkout(tmp_path: Path) -> Path:
    """A directory laid out like tasker-contrib, whose python plugin also has step_handler."""
    checkout = tmp_path / "tasker-contrib"
    plugin_dir = checkout / "python" / "tasker-cli-plugin"
    (plugin_dir / "templates").mkdir(parents=True)
    (checkout / "docs").mkdir()
    (plugin_dir / "tasker-plugin.toml").write_text(
        (BUNDLED_PLUGIN / "tasker-plugin.toml")
        .read_text()
        .replace('name = "tasker-ctl-python"', 'name = "tasker-contrib-python"')
    )
    for template in (BUNDLED_PLUGIN / "templates").iterdir():
        target = plugin_dir / "templates" / template.name
        target.mkdir()
        for file in template.iterdir():
            (target / file.name).write_text(file.read_text())
    (plugin_dir / "_shared").mkdir()
    for file in (BUNDLED_PLUGIN / "_shared").iterdir():
        (plugin_dir / "_shared" / file.name).write_text(file.read_text())
    return checkout


def test_a_contrib_checkout_works_as_a_plugin_path(contrib_checkout: Path) -> None:
    listed = run("plugin", "list", "--plugin-path", str(contrib_checkout))

    assert listed.exit_code == 0
    assert [line for line in listed.stdout.splitlines() if line.startswith("✓")] == [
        "✓ tasker-contrib-python (v0.1.0) [python/-]",
        "✓ tasker-ctl-python (v0.1.0) [python/-]",
    ]

    ambiguous = run(
        "template", "generate", "step_handler", "-p", "name=X", "--language", "python",
        "--plugin-path", str(contrib_checkout),
    )  # fmt: skip

    assert ambiguous.exit_code == 2
    assert ambiguous.stderr == (
        "error: Template 'step_handler' is offered by several plugins: "
        "tasker-contrib-python (python/-), tasker-ctl-python (python/-).\n"
        "hint: choose one with --plugin, e.g. --plugin tasker-contrib-python\n"
    )

    chosen = run(
        "template", "generate", "step_handler", "-p", "name=X", "--language", "ruby",
        "--plugin", "tasker-contrib-python", "--plugin-path", str(contrib_checkout),
    )  # fmt: skip

    assert chosen.exit_code == 0, chosen.output


def test_the_project_file_supplies_plugin_paths_and_defaults(
    tmp_path: Path, contrib_checkout: Path
) -> None:
    (tmp_path / ".tasker-ctl.toml").write_text(
        f'plugin-paths = ["{contrib_checkout.name}"]\ndefault-output-dir = "generated"\n'
    )

    result = run(
        "template", "generate", "task_template", "--plugin", "tasker-contrib-python",
        "-p", "name=Ship", "-p", "handler_callable=ship",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    written = tmp_path / "generated" / "ship.yaml"  # relative to the project file
    assert result.stdout.splitlines()[0] == f"✓ Wrote {written}"
    assert written.is_file()


def test_plugin_validate_accepts_the_bundled_plugin() -> None:
    result = run("plugin", "validate", str(BUNDLED_PLUGIN))

    assert result.exit_code == 0
    assert result.stdout == (
        "✓ Plugin manifest loaded: tasker-ctl-python\n"
        "  Version: 0.1.0\n"
        "  Language: python\n"
        "  Framework: -\n"
        "  Templates: 5\n"
        "✓ Validation passed.\n"
    )


def test_plugin_validate_lists_every_problem_and_fails(tmp_path: Path) -> None:
    (tmp_path / "tasker-plugin.toml").write_text(
        '[plugin]\nname = ""\nversion = "1"\ndescription = "d"\nlanguage = "python"\n'
        '[[templates]]\nname = "gone"\npath = "nowhere"\ndescription = "d"\n'
    )

    result = run("plugin", "validate", str(tmp_path))

    assert result.exit_code == 1
    assert result.stdout.startswith("✓ Plugin manifest loaded: \n")
    assert result.stderr == (
        "✗ Validation errors:\n"
        "  • plugin.name is empty\n"
        "  • template 'gone' path 'nowhere' does not exist\n"
    )


def test_plugin_validate_reports_an_unparsable_manifest(tmp_path: Path) -> None:
    (tmp_path / "tasker-plugin.toml").write_text("[plugin\n")

    result = run("plugin", "validate", str(tmp_path))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"✗ Validation errors:\n  • failed to parse {tmp_path / 'tasker-plugin.toml'}: "
    )


@pytest.fixture(scope="module", autouse=True)
def _no_stray_files() -> Iterator[None]:
    """The path-escape tests must never leave files outside their directories."""
    yield
    assert not Path("/tmp/tasker-ctl-evil.txt").exists()


def test_a_template_that_fails_to_render_is_a_clean_error_with_exit_65(tmp_path: Path) -> None:
    from subprocesses import run_tasker_ctl

    plugin = tmp_path / "plugin"
    template_dir = plugin / "templates" / "broken"
    template_dir.mkdir(parents=True)
    (plugin / "tasker-plugin.toml").write_text(
        '[plugin]\nname = "broken-plugin"\nversion = "1.0.0"\ndescription = "d"\n'
        'language = "python"\n[[templates]]\nname = "broken"\npath = "templates/broken"\ndescription = "d"\n'
    )
    (template_dir / "template.toml").write_text(
        'name = "broken"\ndescription = "d"\n[[parameters]]\nname = "name"\ndescription = "n"\n'
        'required = true\n[[outputs]]\ntemplate = "file.txt.tera"\nfilename = "out.txt"\n'
    )
    (template_dir / "file.txt.tera").write_text("{{ name }}\n{{ 1 / 0 }}\n")

    result = run_tasker_ctl(
        "template", "generate", "broken", "--plugin-path", str(plugin), "--param", "name=x",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 65, result.stderr
    assert result.stderr.startswith(f"error: {template_dir / 'file.txt.tera'}:2: cannot render: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.txt").exists()

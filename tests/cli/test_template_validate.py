"""``tasker-ctl template validate``: findings, formats, exit codes, path handling."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from subprocesses import REPO_ROOT, run_tasker_ctl
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app

WriteTemplate = Callable[..., Path]  # the write_template fixture in tests/conftest.py

FILE_KEYS = {"path", "valid", "findings", "step_count", "has_cycles"}
FINDING_KEYS = {"code", "severity", "message", "step", "line"}

# Every error each broken fixture must produce: (code, line, part of the message).
BROKEN_FIXTURES: dict[str, list[tuple[str, int | None, str]]] = {
    "broken/cycle.yaml": [
        ("CYCLE_DETECTED", 6, "Dependency cycle detected: a -> b -> c -> a"),
    ],
    "broken/missing_dependency.yaml": [
        ("MISSING_DEP_REF", 11, "Step 'b' depends on 'x' which does not exist"),
    ],
    "broken/duplicate_step.yaml": [
        ("DUPLICATE_STEP_NAME", 10, "Duplicate step name: 'a'"),
    ],
    "broken/self_dependency.yaml": [
        ("SELF_DEPENDENCY", 7, "Step 'a' depends on itself"),
        ("CYCLE_DETECTED", 5, "Dependency cycle detected: a -> a"),
    ],
    "broken/empty_callable.yaml": [
        ("EMPTY_CALLABLE", 7, "Step 'a' has an empty handler callable"),
    ],
    "broken/no_handler.yaml": [
        ("MISSING_REQUIRED_KEY", 7, "step 'b' handler: this required key is missing"),
    ],
    "broken/decision_point.yaml": [
        ("INVALID_STEP_TYPE", 8, "unknown step type 'decision_point'; use 'decision'"),
    ],
    "broken/invalid_input_schema.yaml": [
        ("INPUT_SCHEMA_INVALID", 8, 'input_schema is not a valid JSON Schema: "money"'),
    ],
    "broken/unparseable.yaml": [
        ("YAML_PARSE_ERROR", 7, "invalid YAML: "),
    ],
    "broken/empty.yaml": [
        ("YAML_PARSE_ERROR", None, "file is empty"),
    ],
    "broken/misspelt_key.yaml": [
        (
            "MISSPELT_FIELD",
            9,
            "Unknown key 'dependecies' in step 'b' (did you mean 'dependencies'?)",
        ),
    ],
    "broken/alias_bomb.yaml": [
        ("YAML_PARSE_ERROR", 2, "YAML aliases expand to more than"),
    ],
    "legacy/user_onboarding.yaml": [
        ("LEGACY_TEMPLATE_FORMAT", 8, "legacy Rails-engine template format (step_templates)"),
    ],
    "legacy/data_extraction.yaml": [
        ("LEGACY_TEMPLATE_FORMAT", 6, "legacy Rails-engine template format (step_templates)"),
    ],
    "legacy/process_order.yaml": [
        ("LEGACY_TEMPLATE_FORMAT", 5, "legacy Rails-engine template format (step_templates)"),
    ],
}

WARNINGS_ONLY = """
name: two_orphans
namespace_name: tests
version: 1.0.0
steps:
  - {name: a, handler: {callable: h.A}, result_schema: {type: object}}
  - {name: b, handler: {callable: h.B}, result_schema: {type: object}}
"""


def validate(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["template", "validate", *map(str, args)])


def assert_clean_exit(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


broken = pytest.mark.parametrize("fixture", sorted(BROKEN_FIXTURES))


@broken
def test_text_names_file_line_and_code(template_fixtures: Path, fixture: str) -> None:
    path = template_fixtures / fixture

    result = validate(path)

    assert_clean_exit(result, 1)
    lines = result.stdout.splitlines()
    for code, line, message in BROKEN_FIXTURES[fixture]:
        place = f"{path}:{line}" if line else str(path)
        assert any(
            text.startswith(f"{place}: error {code} ") and message in text for text in lines
        ), (code, result.stdout)
    assert lines[-1].startswith("✗ 1 of 1 template file invalid: ")


@broken
def test_json_has_the_exact_shape_and_every_error(template_fixtures: Path, fixture: str) -> None:
    path = template_fixtures / fixture

    result = validate("--format", "json", path)

    assert_clean_exit(result, 1)
    document = json.loads(result.stdout)
    assert set(document) == {"valid", "files"}
    assert document["valid"] is False
    (entry,) = document["files"]
    assert set(entry) == FILE_KEYS
    assert (entry["path"], entry["valid"]) == (str(path), False)
    assert all(set(finding) == FINDING_KEYS for finding in entry["findings"])
    errors = [f for f in entry["findings"] if f["severity"] == "error"]
    expected = BROKEN_FIXTURES[fixture]
    assert [(f["code"], f["line"]) for f in errors] == [(c, line) for c, line, _ in expected]
    for finding, (_, _, message) in zip(errors, expected, strict=True):
        assert message in finding["message"]
    assert entry["has_cycles"] is any(code == "CYCLE_DETECTED" for code, _, _ in expected)


@broken
def test_github_annotations(template_fixtures: Path, fixture: str) -> None:
    path = template_fixtures / fixture

    result = validate("--format", "github", path)

    assert_clean_exit(result, 1)
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    expected = []
    for code, line, _ in BROKEN_FIXTURES[fixture]:
        where = f",line={line}" if line else ""
        expected.append(f"::error file={path}{where},title={code}::")
    assert len(errors) == len(expected)
    for annotation, prefix, (_, _, message) in zip(
        errors, expected, BROKEN_FIXTURES[fixture], strict=True
    ):
        assert annotation.startswith(prefix)
        assert message in annotation


def test_github_uses_warning_and_notice(write_template: WriteTemplate) -> None:
    path = write_template(WARNINGS_ONLY.replace("result_schema: {type: object}}", "}", 1))

    result = validate("--format", "github", "--min-severity", "info", path)

    assert_clean_exit(result, 0)
    commands = sorted({line.split(" ", 1)[0] for line in result.stdout.splitlines()})
    assert commands == ["::notice", "::warning"]
    assert f"::notice file={path},line=5,title=NO_RESULT_SCHEMA::" in result.stdout


def test_text_report_in_full(template_fixtures: Path) -> None:
    path = template_fixtures / "broken" / "self_dependency.yaml"

    result = validate("--min-severity", "info", path)

    assert_clean_exit(result, 1)
    assert result.stdout == (
        f"{path}:5: info NO_RESULT_SCHEMA Step 'a' has no result_schema defined\n"
        f"{path}:5: error CYCLE_DETECTED Dependency cycle detected: a -> a\n"
        f"{path}:7: error SELF_DEPENDENCY Step 'a' depends on itself\n"
        "\n"
        "✗ 1 of 1 template file invalid: 2 errors, 0 warnings, 1 info\n"
    )
    assert result.stderr == ""


def test_a_valid_file_exits_0_with_a_summary(template_fixtures: Path) -> None:
    result = validate(template_fixtures / "good" / "minimal.yaml")

    assert_clean_exit(result, 0)
    assert result.stdout == (
        "✓ 1 template file valid: 0 errors, 0 warnings, 2 info; "
        "2 not shown (--min-severity info shows all)\n"
    )


def test_bundled_templates_are_valid(bundled_templates: Path) -> None:
    result = validate("--format", "json", bundled_templates)

    assert_clean_exit(result, 0)
    document = json.loads(result.stdout)
    assert document["valid"] is True
    assert len(document["files"]) == len(list(bundled_templates.rglob("*.yaml")))
    assert all(f["severity"] == "info" for e in document["files"] for f in e["findings"])


def test_strict_fails_on_warnings(write_template: WriteTemplate) -> None:
    path = write_template(WARNINGS_ONLY)

    assert_clean_exit(validate(path), 0)
    assert_clean_exit(validate("--strict", path), 1)


def test_strict_ignores_info(template_fixtures: Path) -> None:
    assert_clean_exit(validate("--strict", template_fixtures / "good" / "minimal.yaml"), 0)


def test_one_invalid_file_fails_the_run(template_fixtures: Path) -> None:
    good, bad = (
        template_fixtures / "good" / "minimal.yaml",
        template_fixtures / "broken" / "cycle.yaml",
    )

    result = validate("--format", "json", good, bad)

    assert_clean_exit(result, 1)
    document = json.loads(result.stdout)
    assert [(f["path"], f["valid"]) for f in document["files"]] == [
        (str(good), True),
        (str(bad), False),
    ]


def test_directories_are_searched_recursively(tmp_path: Path, template_fixtures: Path) -> None:
    good = (template_fixtures / "good" / "minimal.yaml").read_text()
    for name in ("top.yaml", "nested/deeper/inner.yml", "nested/readme.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(good)

    result = validate("--format", "json", tmp_path)

    assert_clean_exit(result, 0)
    paths = [
        Path(f["path"]).relative_to(tmp_path).as_posix() for f in json.loads(result.stdout)["files"]
    ]
    assert paths == ["nested/deeper/inner.yml", "top.yaml"]


def test_min_severity_error_hides_warnings_but_not_the_exit_code(
    write_template: WriteTemplate,
) -> None:
    path = write_template(WARNINGS_ONLY)

    result = validate("--strict", "--min-severity", "error", path)

    assert_clean_exit(result, 1)
    assert "ORPHAN_STEP" not in result.stdout


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"

    result = validate(missing)

    assert_clean_exit(result, 2)
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {missing}: no such file or directory",
        "hint: pass template files or directories that contain *.yaml / *.yml files",
    ]


def test_a_directory_without_templates_is_a_usage_error(tmp_path: Path) -> None:
    result = validate(tmp_path)

    assert_clean_exit(result, 2)
    assert result.stderr.startswith(f"error: no template files (*.yaml, *.yml) under {tmp_path}\n")


def test_an_unknown_format_is_a_usage_error(template_fixtures: Path) -> None:
    assert_clean_exit(validate("--format", "xml", template_fixtures), 2)


def _entry_point() -> list[str]:
    script = Path(sys.executable).with_name("tasker-ctl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tasker_ctl"]


def test_installed_entry_point(bundled_templates: Path, template_fixtures: Path) -> None:
    ok = subprocess.run(
        [*_entry_point(), "template", "validate", str(bundled_templates)],
        capture_output=True,
        text=True,
        check=False,
    )
    broken = subprocess.run(
        [*_entry_point(), "template", "validate", str(template_fixtures / "broken" / "cycle.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.startswith("✓ ")
    assert broken.returncode == 1
    assert "CYCLE_DETECTED" in broken.stdout
    assert "Traceback" not in broken.stdout + broken.stderr


BROKEN = (
    "name: broken\nnamespace_name: shop\nversion: 1.0.0\nsteps:\n"
    "  - name: a\n    dependencies: [a]\n    handler: {callable: h.a}\n"
)
NOT_OURS = "name: x\nnamespace_name: y\nversion: 1.0.0\nsteps: []\n"


def _repository(root: Path) -> Path:
    """A repository as people have them: CI files, compose, a virtualenv, ignored build output."""
    (root / ".git").mkdir()
    files = {
        ".github/workflows/ci.yml": "name: ci\non: push\njobs: {}\n",
        "docker-compose.yml": "services:\n  db: {image: postgres}\n",
        ".venv/pyvenv.cfg": "home = /usr\n",
        ".venv/lib/site/port.yaml": NOT_OURS,
        "env/pyvenv.cfg": "home = /usr\n",
        "env/lib/templates.yaml": NOT_OURS,
        "node_modules/pkg/a.yaml": NOT_OURS,
        "build/generated.yaml": NOT_OURS,
        ".gitignore": "build/\n",
        "templates/broken.yaml": BROKEN,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_linting_a_repository_reports_only_its_templates(tmp_path: Path) -> None:
    repository = _repository(tmp_path)

    linted = run_tasker_ctl("template", "validate", ".", "--format", "json", cwd=repository)

    assert linted.returncode == 1, linted.stderr
    report = json.loads(linted.stdout)
    assert [file["path"] for file in report["files"]] == ["templates/broken.yaml"]


def test_without_a_path_the_configured_template_paths_are_linted(tmp_path: Path) -> None:
    repository = _repository(tmp_path)

    linted = run_tasker_ctl("template", "validate", "--format", "json", cwd=repository)

    assert linted.returncode == 1, linted.stderr
    assert [file["path"] for file in json.loads(linted.stdout)["files"]] == [
        "templates/broken.yaml"
    ]


def test_without_a_path_or_template_directory_the_error_says_what_to_pass(tmp_path: Path) -> None:
    linted = run_tasker_ctl("template", "validate", cwd=tmp_path)

    assert linted.returncode == 2
    assert linted.stderr.startswith("error: no template paths to lint")


def test_a_file_named_explicitly_is_checked_even_when_it_is_not_a_template(
    tmp_path: Path,
) -> None:
    repository = _repository(tmp_path)

    linted = run_tasker_ctl("template", "validate", "docker-compose.yml", cwd=repository)

    assert linted.returncode == 1
    assert "docker-compose.yml:1: error MISSING_REQUIRED_KEY name:" in linted.stdout


@pytest.mark.parametrize(
    ("written", "advice"),
    [("version: 1.0", 'quote it and write e.g. "1.0.0"'), ("version: '1.0'", 'write e.g. "1.0.0"')],
)
def test_a_short_version_is_told_to_be_quoted_only_when_it_is_a_number(
    tmp_path: Path, written: str, advice: str
) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        f"name: t\nnamespace_name: n\n{written}\nsteps:\n  - name: a\n    handler: {{callable: h.a}}\n",
        encoding="utf-8",
    )

    linted = run_tasker_ctl("template", "validate", str(template), cwd=tmp_path)

    assert (
        f"warning INVALID_VERSION Version '1.0' is not in x.y.z form; {advice}\n" in linted.stdout
    )


# Retry blocks as Tasker's own fixture templates write them (e.g. tests/fixtures/task_templates/
# python/checkpoint_yield_test.yaml, rust/boundary_max_attempts_zero.yaml): --strict passes.
UPSTREAM_STYLE_RETRIES = """\
name: retry_shapes
namespace_name: tests
version: 1.0.0
steps:
  - name: once
    handler: {callable: h.Once}
    retry: {retryable: false, max_attempts: 0}
    result_schema: {type: object}
  - name: quick
    handler: {callable: h.Quick}
    dependencies: [once]
    retry: {retryable: true, max_attempts: 3, backoff: exponential, backoff_base_ms: 50}
    result_schema: {type: object}
  - name: capped
    handler: {callable: h.Capped}
    dependencies: [quick]
    retry: {max_attempts: 2, backoff: linear, backoff_base_ms: 100, max_backoff_ms: 500}
    result_schema: {type: object}
"""


def test_strict_passes_on_retry_blocks_tasker_uses(write_template: WriteTemplate) -> None:
    path = write_template(UPSTREAM_STYLE_RETRIES)
    result = validate("--strict", path)
    assert result.exit_code == 0, result.output
    shown = json.loads(validate("--format", "json", path).stdout)
    retry = [f for f in shown["files"][0]["findings"] if f["code"] == "RETRY_OUT_OF_RANGE"]
    assert [(f["step"], f["severity"]) for f in retry] == [("quick", "info"), ("capped", "info")]


def test_the_pre_commit_hook_lints_the_repository_templates(tmp_path: Path) -> None:
    """Run the hook as pre-commit does: its ``entry`` split into words, no file names added."""
    import shlex

    import yaml

    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["pass_filenames"] is False
    repository = _repository(tmp_path)
    program, *arguments = shlex.split(hook["entry"])
    assert program == "tasker-ctl"

    linted = run_tasker_ctl(*arguments, cwd=repository)

    assert linted.returncode == 1
    assert "templates/broken.yaml:6: error SELF_DEPENDENCY" in linted.stdout
    assert "docker-compose" not in linted.stdout and ".venv" not in linted.stdout

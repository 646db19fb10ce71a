"""Validating a file end to end: stages, unknown keys, legacy format, paths, loading."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasker_ctl.errors import InvalidDataError, UsageError
from tasker_ctl.template.findings import Severity
from tasker_ctl.template.validation import (
    expand_paths,
    load_template,
    validate_file,
    validate_paths,
)

WriteTemplate = Callable[..., Path]  # the write_template fixture in tests/conftest.py

HEADER = "name: t\nnamespace_name: tests\nversion: 1.0.0\n"
ONE_STEP = HEADER + "steps:\n  - name: a\n    handler: {callable: h.A}\n"


@pytest.mark.parametrize(
    ("text", "code", "severity", "message", "line"),
    [
        (
            ONE_STEP + "    dependecies: []\n",
            "MISSPELT_FIELD",
            Severity.ERROR,
            "Unknown key 'dependecies' in step 'a' (did you mean 'dependencies'?); "
            "Tasker would silently ignore it",
            7,
        ),
        (
            HEADER + "steps:\n  - name: a\n    handler: {callable: h.A, initialisation: {}}\n",
            "MISSPELT_FIELD",
            Severity.ERROR,
            "Unknown key 'initialisation' in step 'a' handler (did you mean 'initialization'?); "
            "Tasker would silently ignore it",
            6,
        ),
        (
            ONE_STEP + "    retry: {max_attempt: 2}\n",
            "MISSPELT_FIELD",
            Severity.ERROR,
            "Unknown key 'max_attempt' in step 'a' retry (did you mean 'max_attempts'?); "
            "Tasker would silently ignore it",
            7,
        ),
        (
            "task_handler: {class: X}\n" + ONE_STEP,
            "UNKNOWN_FIELD",
            Severity.INFO,
            "Unknown key 'task_handler' in the top level: task_handler is not a Tasker field; "
            "it is ignored",
            1,
        ),
        (
            ONE_STEP + "    retry: {limit: 2}\n",
            "UNKNOWN_FIELD",
            Severity.INFO,
            "Unknown key 'limit' in step 'a' retry: limit is an old key; use max_attempts",
            7,
        ),
        (
            ONE_STEP + "    owner_team: payments\n",
            "UNKNOWN_FIELD",
            Severity.INFO,
            "Unknown key 'owner_team' in step 'a'; Tasker ignores it",
            7,
        ),
    ],
)
def test_unknown_keys(
    write_template: WriteTemplate,
    text: str,
    code: str,
    severity: Severity,
    message: str,
    line: int,
) -> None:
    report = validate_file(write_template(text))

    found = [(f.severity, f.message, f.line) for f in report.findings if f.code == code]
    assert found == [(severity, message, line)]


def test_unknown_keys_inside_environment_overrides_are_found(
    write_template: WriteTemplate,
) -> None:
    text = ONE_STEP + "environments:\n  test:\n    steps:\n      - {name: ALL, timout_seconds: 5}\n"

    report = validate_file(write_template(text))

    (finding,) = [f for f in report.findings if f.code == "MISSPELT_FIELD"]
    assert "'timout_seconds' in environments.test.steps[0]" in finding.message
    assert finding.line == 10


def test_unknown_step_type_suggests_the_right_one(write_template: WriteTemplate) -> None:
    report = validate_file(write_template(ONE_STEP + "    type: decision_point\n"))

    (finding,) = report.findings
    assert (finding.code, finding.step, finding.line) == ("INVALID_STEP_TYPE", "a", 7)
    assert "unknown step type 'decision_point'; use 'decision'" in finding.message


def test_model_errors_name_the_step_and_key(write_template: WriteTemplate) -> None:
    text = HEADER + "steps:\n  - name: a\n    handler: {callable: h.A}\n    timeout_seconds: soon\n"

    (finding,) = validate_file(write_template(text)).findings

    assert (finding.code, finding.step, finding.line) == ("YAML_PARSE_ERROR", "a", 7)
    assert finding.message.startswith("step 'a' timeout_seconds: ")


def test_missing_required_keys_are_reported_each(write_template: WriteTemplate) -> None:
    report = validate_file(write_template("description: nothing else\n"))

    assert [f.message for f in report.findings if f.code == "MISSING_REQUIRED_KEY"] == [
        "name: this required key is missing",
        "namespace_name: this required key is missing",
        "version: this required key is missing",
    ]


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "single value")]
)
def test_a_template_must_be_a_mapping(write_template: WriteTemplate, text: str, kind: str) -> None:
    (finding,) = validate_file(write_template(text)).findings

    assert (finding.code, finding.line) == ("YAML_PARSE_ERROR", 1)
    assert finding.message == f"a template is a YAML mapping of keys, not a {kind}"


@pytest.mark.parametrize(
    ("name", "line"),
    [("user_onboarding.yaml", 8), ("data_extraction.yaml", 6), ("process_order.yaml", 5)],
)
def test_legacy_templates_are_recognised_and_stop_there(
    template_fixtures: Path, name: str, line: int
) -> None:
    report = validate_file(template_fixtures / "legacy" / name)

    (finding,) = report.findings
    assert (finding.code, finding.severity, finding.line) == (
        "LEGACY_TEMPLATE_FORMAT",
        Severity.ERROR,
        line,
    )
    for mapping in ("step_templates -> steps", "handler_class -> handler.callable", "dependencies"):
        assert mapping in finding.message
    assert report.template is None


def test_a_validated_template_can_always_be_snapshotted(write_template: WriteTemplate) -> None:
    # !!binary gives bytes, which JSON cannot hold: either refuse it or keep it serialisable.
    text = (
        HEADER
        + "steps:\n  - name: a\n    handler: {callable: h.A, initialization: {b: !!binary /w==}}\n"
    )

    report = validate_file(write_template(text))

    if report.template is not None:
        report.template.to_snapshot()
    else:
        assert report.first_error() is not None


@pytest.mark.slow
def test_a_10000_step_chain_validates(tmp_path: Path) -> None:
    lines = [HEADER, "steps:\n"]
    for i in range(10_000):
        deps = f", dependencies: [s{i - 1}]" if i else ""
        lines.append(f"  - {{name: s{i}, handler: {{callable: h.S}}{deps}}}\n")
    path = tmp_path / "chain.yaml"
    path.write_text("".join(lines))

    report = validate_file(path)

    assert report.valid
    assert report.step_count == 10_000
    assert not report.has_cycles


def test_directories_are_searched_recursively_for_yaml_and_yml(tmp_path: Path) -> None:
    for name in ("b.yaml", "a/deep/c.yml", "a/d.yaml", "notes.txt", "data.json", "x.yaml.bak"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(ONE_STEP)
    (tmp_path / "dir.yaml").mkdir()

    found = expand_paths([tmp_path])

    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/d.yaml",
        "a/deep/c.yml",
        "b.yaml",
    ]


def test_files_are_taken_as_given(tmp_path: Path) -> None:
    path = tmp_path / "template.txt"
    path.write_text(ONE_STEP)

    (report,) = validate_paths([path])

    assert report.valid


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        expand_paths([tmp_path / "nope.yaml"])

    assert str(tmp_path / "nope.yaml") in raised.value.message
    assert raised.value.hint


def test_load_template_returns_the_model(template_fixtures: Path) -> None:
    template = load_template(template_fixtures / "good" / "minimal.yaml")

    assert template.key == ("linear_workflow_py", "mathematical_sequence_py", "1.0.0")
    assert template.steps[1].dependencies == ("linear_step_1_py",)


def test_load_template_refuses_an_invalid_one_naming_file_line_and_problem(
    template_fixtures: Path,
) -> None:
    path = template_fixtures / "broken" / "cycle.yaml"

    with pytest.raises(InvalidDataError) as raised:
        load_template(path)

    assert raised.value.message == f"{path}:6: Dependency cycle detected: a -> b -> c -> a"
    assert raised.value.hint == f"run 'tasker-ctl template validate {path}' for details"

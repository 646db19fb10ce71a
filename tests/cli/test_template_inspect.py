"""``tasker-ctl template inspect``: a template's shape, for people and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tasker_ctl.cli import app

# Reference §8.5 (MCP template_inspect) plus tasker-ctl's parallel levels and critical path.
SUMMARY_KEYS = {
    "name",
    "namespace",
    "version",
    "description",
    "step_count",
    "has_input_schema",
    "execution_order",
    "root_steps",
    "leaf_steps",
    "steps",
} | {"parallel_levels", "critical_path", "critical_path_length"}
STEP_KEYS = {
    "name",
    "description",
    "handler_callable",
    "dependencies",
    "dependents",
    "has_result_schema",
    "result_field_count",
} | {"step_type"}


def inspect(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["template", "inspect", *map(str, args)])


@pytest.fixture
def ecommerce(bundled_templates: Path) -> Path:
    return bundled_templates / "ecommerce_order_processing.yaml"


def test_text(ecommerce: Path) -> None:
    result = inspect(ecommerce)

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Template: ecommerce_order_processing\n"
        "  Namespace: ecommerce\n"
        "  Version: 1.0.0\n"
        "  Description: E-commerce checkout: validate → (payment ‖ inventory) → order → confirm\n"
        "  Steps: 5\n"
        "  Input schema: yes\n"
        "  Roots: validate_cart\n"
        "  Leaves: send_confirmation\n"
        "  Execution order: validate_cart → process_payment → update_inventory → create_order"
        " → send_confirmation\n"
        "  Parallel levels: 4\n"
        "    1. validate_cart\n"
        "    2. process_payment, update_inventory\n"
        "    3. create_order\n"
        "    4. send_confirmation\n"
        "  Critical path: 4 steps: validate_cart → process_payment → create_order"
        " → send_confirmation\n"
    )


def test_json(ecommerce: Path) -> None:
    result = inspect("--format", "json", ecommerce)

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) == SUMMARY_KEYS
    assert all(set(step) == STEP_KEYS for step in summary["steps"])
    assert (summary["name"], summary["namespace"], summary["version"]) == (
        "ecommerce_order_processing",
        "ecommerce",
        "1.0.0",
    )
    assert (summary["step_count"], summary["has_input_schema"]) == (5, True)
    assert summary["root_steps"] == ["validate_cart"]
    assert summary["leaf_steps"] == ["send_confirmation"]
    assert summary["parallel_levels"] == [
        ["validate_cart"],
        ["process_payment", "update_inventory"],
        ["create_order"],
        ["send_confirmation"],
    ]
    assert summary["critical_path_length"] == 4
    assert summary["critical_path"] == [
        "validate_cart",
        "process_payment",
        "create_order",
        "send_confirmation",
    ]
    steps = {step["name"]: step for step in summary["steps"]}
    assert steps["create_order"] == {
        "name": "create_order",
        "description": "Create order record from payment and inventory results",
        "step_type": "standard",
        "handler_callable": "handlers.ecommerce.CreateOrderHandler",
        "dependencies": ["process_payment", "update_inventory"],
        "dependents": ["send_confirmation"],
        "has_result_schema": False,
        "result_field_count": None,
    }
    assert steps["validate_cart"]["dependents"] == ["process_payment", "update_inventory"]


def test_result_field_count(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "name: t\nnamespace_name: tests\nversion: 1.0.0\nsteps:\n"
        "  - {name: a, handler: {callable: h.A},\n"
        "     result_schema: {type: object, properties: {x: {type: string}, y: {type: integer}}}}\n"
    )

    (step,) = json.loads(inspect("--format", "json", path).stdout)["steps"]

    assert (step["has_result_schema"], step["result_field_count"]) == (True, 2)


@pytest.mark.parametrize(
    ("result_schema", "count"),
    [
        ("{type: object}", None),  # no properties: null, as Tasker's MCP template_inspect
        ("{type: object, properties: {}}", 0),
    ],
)
def test_result_field_count_is_null_without_properties(
    tmp_path: Path, result_schema: str, count: int | None
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "name: t\nnamespace_name: tests\nversion: 1.0.0\nsteps:\n"
        f"  - {{name: a, handler: {{callable: h.A}}, result_schema: {result_schema}}}\n"
    )

    (step,) = json.loads(inspect("--format", "json", path).stdout)["steps"]

    assert step["result_field_count"] == count


def test_an_invalid_template_is_refused_with_its_first_error(template_fixtures: Path) -> None:
    path = template_fixtures / "broken" / "cycle.yaml"

    result = inspect(path)

    assert result.exit_code == 65
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {path}:6: Dependency cycle detected: a -> b -> c -> a",
        f"hint: run 'tasker-ctl template validate {path}' for details",
    ]


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = inspect(tmp_path / "nope.yaml")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'nope.yaml'}: no such file or directory")


def test_a_directory_is_a_usage_error(bundled_templates: Path) -> None:
    result = inspect(bundled_templates)

    assert result.exit_code == 2
    assert "directory" in result.stderr
    assert "template validate" not in result.stderr

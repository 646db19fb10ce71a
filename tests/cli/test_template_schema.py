"""``template schema``: a JSON Schema that accepts every valid template and refuses broken ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from subprocesses import REPO_ROOT, run_tasker_ctl


@pytest.fixture(scope="module")
def validator() -> Any:
    printed = run_tasker_ctl("template", "schema")
    assert printed.returncode == 0, printed.stderr
    return jsonschema_rs.validator_for(json.loads(printed.stdout))


@pytest.mark.parametrize(
    "template", sorted((REPO_ROOT / "templates").glob("*.yaml")), ids=lambda path: path.name
)
def test_every_bundled_template_is_valid_against_the_schema(validator: Any, template: Path) -> None:
    data = yaml.safe_load(template.read_text(encoding="utf-8"))

    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize(
    "broken",
    [
        {"namespace_name": "n", "version": "1.0.0", "steps": []},  # no name
        {"name": "t", "namespace_name": "n", "version": "1.0.0", "steps": "a"},
        {"name": "t", "namespace_name": "n", "version": "1.0.0", "steps": [{"name": "a"}]},
    ],
)
def test_broken_templates_are_refused_by_the_schema(validator: Any, broken: Any) -> None:
    assert not validator.is_valid(broken)


def test_output_writes_the_same_schema_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schema" / "template.schema.json"

    written = run_tasker_ctl("template", "schema", "--output", str(target))
    printed = run_tasker_ctl("template", "schema")

    assert written.returncode == 0
    assert target.read_text(encoding="utf-8") == printed.stdout

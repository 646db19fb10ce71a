"""The input a generated workflow test starts from: built from input_schema, and valid for it."""

from __future__ import annotations

from typing import Any

import pytest

from tasker_ctl.codegen.workflow_test import sample_input
from tasker_ctl.template.json_schema import data_problems

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "required": ["email"], "properties": {"email": {"format": "email"}}},
    {
        "type": "object",
        "required": ["items", "count", "when", "id", "ratio", "ok"],
        "properties": {
            "items": {
                "type": "array",
                "minItems": 2,
                "items": {"type": "object", "required": ["sku"], "properties": {"sku": {}}},
            },
            "count": {"type": "integer", "minimum": 5},
            "when": {"type": "string", "format": "date-time"},
            "id": {"type": "string", "format": "uuid"},
            "ratio": {"type": "number", "exclusiveMinimum": 0},
            "ok": {"type": "boolean"},
        },
    },
    {
        "type": "object",
        "required": ["tier", "name", "customer"],
        "properties": {
            "tier": {"enum": ["gold", "silver"]},
            "name": {"type": "string", "minLength": 12},
            "customer": {"$ref": "#/$defs/customer"},
        },
        "$defs": {
            "customer": {
                "type": "object",
                "required": ["site"],
                "properties": {"site": {"type": "string", "format": "uri"}},
            }
        },
    },
    {"type": "object", "properties": {"optional": {"type": "string"}}},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_sample_passes_its_schema(schema: dict[str, Any]) -> None:
    sample = sample_input(schema)

    assert data_problems(schema, sample) == []


def test_only_required_properties_are_filled() -> None:
    assert sample_input(SCHEMAS[3]) == {}

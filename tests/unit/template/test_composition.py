"""Composition checks (Tasker TAS-337): parse errors, result_schema vs the composition's output,
and the ``grammar:`` callable convention, with Tasker's codes, severities and messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tasker_ctl.template.composition import parse_error, schema_compatibility
from tasker_ctl.template.findings import Finding, Severity
from tasker_ctl.template.validation import validate_file

WriteTemplate = Callable[..., Path]  # the write_template fixture in tests/conftest.py
ERROR, WARNING = Severity.ERROR, Severity.WARNING
LABEL = "step result_schema vs composition outcome"

GOOD = {
    "name": "enrich",
    "outcome": {"description": "d", "output_schema": {"type": "object"}},
    "invocations": [{"capability": "transform", "config": {"filter": "."}, "checkpoint": True}],
}


@pytest.mark.parametrize(
    ("composition", "message"),
    [
        ("not a map", 'invalid type: string "not a map", expected struct CompositionSpec'),
        ({"invocations": []}, "missing field `outcome`"),
        ({"outcome": {"description": "d", "output_schema": {}}}, "missing field `invocations`"),
        ({"outcome": {"output_schema": {}}, "invocations": []}, "missing field `description`"),
        (
            {"outcome": {"description": 5}, "invocations": []},
            "invalid type: integer `5`, expected a string",
        ),
        ({**GOOD, "invocations": {"a": 1}}, "invalid type: map, expected a sequence"),
        ({**GOOD, "invocations": [{"capability": "x"}]}, "missing field `config`"),
        (
            {**GOOD, "invocations": [{"capability": "x", "config": 1, "checkpoint": "yes"}]},
            'invalid type: string "yes", expected a boolean',
        ),
        ({**GOOD, "name": 3}, "invalid type: integer `3`, expected a string"),
    ],
)
def test_parse_errors_read_as_tasker_words_them(composition: Any, message: str) -> None:
    assert parse_error(composition) == message


def test_a_well_formed_composition_parses_and_extra_keys_are_ignored() -> None:
    assert parse_error({**GOOD, "name": None, "extra": 1}) is None


@pytest.mark.parametrize(
    ("producer", "consumer", "expected"),
    [
        ({"type": "object"}, {}, []),
        (
            {},
            {"type": "object"},
            [(ERROR, f"{LABEL}: consumer expects a schema but producer declares none")],
        ),
        (
            {"type": "object", "properties": {}},
            {"type": "object", "required": ["total"]},
            [
                (
                    ERROR,
                    f"{LABEL}: consumer requires field 'total' but producer output does not "
                    "contain it",
                )
            ],
        ),
        (
            {"properties": {"total": {"type": "integer"}}},
            {"required": ["total"], "properties": {"total": {"type": "number"}}},
            [],  # an integer is a number
        ),
        (
            {"properties": {"id": {"type": "integer"}, "note": {"type": "boolean"}}},
            {
                "required": ["id"],
                "properties": {"id": {"type": "string"}, "note": {"type": "string"}},
            },
            [
                (
                    ERROR,
                    f"{LABEL}: field 'id' type mismatch — producer provides [integer] but "
                    "consumer expects 'string'",
                ),
                (
                    WARNING,
                    f"{LABEL}: field 'note' type mismatch — producer provides [boolean] "
                    "but consumer expects 'string'",
                ),
            ],
        ),
        (
            {"properties": {"rows": {"type": "array", "items": {"properties": {}}}}},
            {
                "required": ["rows"],
                "properties": {"rows": {"type": "array", "items": {"required": ["id"]}}},
            },
            [
                (
                    ERROR,
                    f"{LABEL}[].rows: consumer requires field 'id' but producer output does "
                    "not contain it",
                )
            ],
        ),
    ],
)
def test_schema_compatibility(producer: Any, consumer: Any, expected: list[Any]) -> None:
    assert schema_compatibility(producer, consumer) == expected


TEMPLATE = """\
name: t
namespace_name: tests
version: 1.0.0
steps:
  - name: composed
    handler: {callable: grammar:enrich}
    result_schema: {type: object, required: [total], properties: {total: {type: number}}}
    composition:
      outcome: {description: d, output_schema: {type: object, properties: {}}}
      invocations: []
  - name: plain_callable
    dependencies: [composed]
    handler: {callable: shop.Enrich}
    composition: {outcome: {description: d, output_schema: {}}, invocations: []}
  - name: broken
    dependencies: [composed]
    handler: {callable: grammar:x}
    composition: [1, 2]
"""


def composition_findings(write_template: WriteTemplate) -> list[Finding]:
    return [f for f in validate_file(write_template(TEMPLATE)).findings if "COMPOSITION" in f.code]


def test_composition_findings_in_a_template(write_template: WriteTemplate) -> None:
    found = [(f.code, f.severity, f.step, f.line) for f in composition_findings(write_template)]
    assert found == [
        ("COMPOSITION_RESULT_SCHEMA_MISMATCH", ERROR, "composed", 9),
        ("COMPOSITION_CALLABLE_CONVENTION", WARNING, "plain_callable", 13),
        ("COMPOSITION_PARSE_ERROR", ERROR, "broken", 18),
    ]
    messages = [f.message for f in composition_findings(write_template)]
    assert messages[1] == (
        "step has a composition but callable 'shop.Enrich' does not use the 'grammar:' prefix"
    )
    assert (
        messages[2]
        == "failed to parse composition: invalid type: sequence, expected struct CompositionSpec"
    )


def test_a_bad_composition_makes_the_template_invalid(write_template: WriteTemplate) -> None:
    assert not validate_file(write_template(TEMPLATE)).valid

"""Whether a schema compiles, and how data breaks one (tasker_ctl.template.json_schema)."""

from __future__ import annotations

from typing import Any

import pytest

from tasker_ctl.errors import InvalidDataError
from tasker_ctl.tasks.inputs import check_input
from tasker_ctl.template.json_schema import SchemaCompileError, data_problems, schema_problems


def test_every_metaschema_problem_is_reported_with_its_place() -> None:
    problems = schema_problems(
        {"type": "objekt", "required": 5, "properties": {"a": {"minLength": -1}}}
    )

    assert [where for _, where in problems] == [
        ("properties", "a", "minLength"),
        ("required",),
        ("type",),
    ]
    assert problems[1][0] == '5 is not of type "array" (at required)'


def test_a_valid_schema_has_no_problems() -> None:
    schema = {"type": "object", "properties": {"when": {"type": "string", "format": "date"}}}

    assert schema_problems(schema) == []


def test_the_declared_dialect_decides_what_is_valid() -> None:
    # Draft 4 spells an exclusive minimum as a boolean beside "minimum"; 2020-12 as a number.
    boolean_bound = {"minimum": 1, "exclusiveMinimum": True}
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", **boolean_bound}

    assert schema_problems(draft4) == []
    assert [where for _, where in schema_problems(boolean_bound)] == [("exclusiveMinimum",)]


@pytest.mark.parametrize(
    ("schema", "place", "words"),
    [
        ({"properties": {"sku": {"pattern": "(["}}}, ("properties", "sku", "pattern"), "regex"),
        ({"properties": {"a": {"$ref": "#/$defs/missing"}}}, (), "/$defs/missing"),
        ({"$schema": "https://example.com/my-dialect", "type": "object"}, (), "meta-schema"),
        ({"$ref": "https://example.com/address.json"}, (), "does not reach the network"),
    ],
    ids=["bad-regex", "dangling-ref", "unknown-dialect", "remote-ref"],
)
def test_a_schema_that_passes_its_metaschema_must_still_compile(
    schema: dict[str, Any], place: tuple[str, ...], words: str
) -> None:
    [(message, where)] = schema_problems(schema)

    assert where == place
    assert words in message
    with pytest.raises(SchemaCompileError):
        data_problems(schema, {})


def test_data_problems_name_every_path_and_check_formats() -> None:
    schema = {
        "type": "object",
        "required": ["id"],
        "properties": {
            "email": {"type": "string", "format": "email"},
            "due": {"type": "string", "format": "duration"},
            "items": {"type": "array", "items": {"type": "object", "required": ["sku"]}},
        },
    }

    problems = data_problems(
        schema, {"email": "nobody", "due": "3 days", "items": [{}, {"sku": 1}]}
    )

    assert sorted(problems) == [
        ((), '"id" is a required property'),
        (("due",), '"3 days" is not a "duration"'),
        (("email",), '"nobody" is not a "email"'),
        (("items", 0), '"sku" is a required property'),
    ]
    assert data_problems(schema, {"id": 1, "email": "a@example.com", "due": "P3D"}) == []


def test_check_input_turns_paths_into_json_paths_and_refuses_a_broken_schema() -> None:
    schema = {"type": "object", "properties": {"items": {"items": {"type": "integer"}}}}

    [violation] = check_input(schema, {"items": [1, "two"]})

    assert (violation.path, violation.message) == ("$.items[1]", '"two" is not of type "integer"')
    with pytest.raises(InvalidDataError, match="input_schema is not a valid JSON Schema"):
        check_input({"type": "objekt"}, {})

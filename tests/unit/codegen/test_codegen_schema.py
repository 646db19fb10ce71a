"""JSON Schema to model types: naming (reference §10.1), type mapping (§10.2), aliases, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasker_ctl.codegen.schema import (
    Kind,
    ModelDef,
    python_field_name,
    template_types,
)
from tasker_ctl.errors import InvalidDataError
from tasker_ctl.template.models import TaskTemplate
from tasker_ctl.template.validation import load_template

FIXTURE = Path(__file__).parent / "codegen_test_template.yaml"


@pytest.fixture(scope="module")
def template() -> TaskTemplate:
    return load_template(FIXTURE)


def _fields(model: ModelDef) -> dict[str, tuple[str, str, bool]]:
    return {f.key: (f.name, f.type.annotation(), f.required) for f in model.fields}


def test_models_are_named_after_task_step_and_property(template: TaskTemplate) -> None:
    steps = [step.name for step in template.steps]
    types = template_types(template, steps, include_input=True)
    assert [model.name for model in types.models()] == [
        "CodegenTestInputItems",
        "CodegenTestInputShippingAddress",
        "CodegenTestInput",
        "ValidateOrderResultLineItems",
        "ValidateOrderResultCustomer",
        "ValidateOrderResult",
        "ReserveStockResultWarehouse",
        "ReserveStockResult",
    ]
    assert set(types.results) == {"validate_order", "reserve_stock"}  # notify has no schema


def test_schema_types_map_to_python_types(template: TaskTemplate) -> None:
    types = template_types(template, ["validate_order"], include_input=True)
    assert types.input_model is not None
    assert _fields(types.input_model) == {
        "order_id": ("order_id", "str", True),
        "items": ("items", "list[CodegenTestInputItems]", True),
        "shipping_address": ("shipping_address", "CodegenTestInputShippingAddress", True),
        "priority": ("priority", "str", False),
        "gift_wrap": ("gift_wrap", "bool", False),
    }
    result = types.results["validate_order"]
    assert _fields(result) == {
        "isValid": ("is_valid", "bool", True),
        "orderTotal": ("order_total", "float", True),
        "lineItems": ("line_items", "list[ValidateOrderResultLineItems]", True),
        "customer": ("customer", "ValidateOrderResultCustomer", True),
        "tags": ("tags", "dict[str, str]", False),
        "class": ("class_", "str", False),
    }
    assert result.aliased and not types.input_model.aliased


def test_enum_values_are_kept(template: TaskTemplate) -> None:
    types = template_types(template, [], include_input=True)
    assert types.input_model is not None
    priority = next(f for f in types.input_model.fields if f.key == "priority")
    assert priority.type.kind is Kind.STR
    assert priority.type.enum == ("standard", "express")


def test_step_only_types_leave_out_the_input(template: TaskTemplate) -> None:
    types = template_types(template, ["reserve_stock"], include_input=False)
    assert types.input_model is None
    assert [m.name for m in types.models()] == ["ReserveStockResultWarehouse", "ReserveStockResult"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("orderTotal", "order_total"),
        ("HTTPStatus", "http_status"),
        ("item-count", "item_count"),
        ("2fa", "field_2fa"),
        ("class", "class_"),
        ("json", "json_"),
        ("model_dump", "model_dump_"),
        ("", "field"),
    ],
)
def test_field_names_are_snake_case_identifiers(key: str, expected: str) -> None:
    assert python_field_name(key) == expected


def _template(input_schema: object) -> TaskTemplate:
    return TaskTemplate.model_validate(
        {
            "name": "shapes",
            "namespace_name": "tests",
            "version": "1.0.0",
            "input_schema": input_schema,
            "steps": [{"name": "only", "handler": {"callable": "x.only"}}],
        }
    )


def test_unknown_shapes_become_any_and_maps_dicts() -> None:
    template = _template(
        {
            "type": "object",
            "properties": {
                "ref": {"$ref": "#/definitions/x"},
                "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "nullable": {"type": ["integer", "null"]},
                "untyped_list": {"type": "array"},
                "free_object": {"type": "object"},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        }
    )
    model = template_types(template, [], include_input=True).input_model
    assert model is not None
    assert {f.key: f.type.annotation() for f in model.fields} == {
        "ref": "Any",
        "either": "Any",
        "nullable": "int",
        "untyped_list": "list[Any]",
        "free_object": "dict[str, Any]",
        "counts": "dict[str, int]",
    }


def test_colliding_names_are_numbered() -> None:
    template = _template(
        {
            "type": "object",
            "properties": {
                "user_id": {"type": "string"},
                "userId": {"type": "string"},
                "a": {"type": "object", "properties": {"b": {"type": "string"}}},
                "A": {"type": "object", "properties": {"c": {"type": "string"}}},
            },
        }
    )
    model = template_types(template, [], include_input=True).input_model
    assert model is not None
    assert [f.name for f in model.fields] == ["user_id", "user_id_2", "a", "a_2"]
    nested = [m.name for m in model.nested()]
    assert nested == ["ShapesInputA", "ShapesInputA2", "ShapesInput"]


def test_a_property_that_is_not_a_schema_object_is_named() -> None:
    template = _template({"type": "object", "properties": {"total": 5}})
    with pytest.raises(InvalidDataError) as caught:
        template_types(template, [], include_input=True)
    assert caught.value.message == (
        "input_schema.properties.total: schema must be a JSON object, got: 5"
    )

"""JSON Schema (a template's ``input_schema`` and ``result_schema``) as a tree of model types.

The mapping follows reference §10.2: strings (with enums), integers, numbers and booleans become
the Python scalar types, arrays ``list[T]``, objects with ``properties`` nested models, objects
with only ``additionalProperties`` ``dict[str, T]``, and anything else (``$ref``, ``oneOf``, …)
``Any``. Names follow reference §10.1: the input root is ``{Task}Input``, a step's result root is
``{Step}Result`` (unprefixed everywhere, so that ``types``, ``handler`` and ``scaffold`` agree),
and nested models are ``{Parent}{Property}``.

Keys that are not snake_case get a snake_case field name and keep the key as the alias, so that
values round-trip; names that collide are made unique with a number.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tasker_ctl.errors import InvalidDataError
from tasker_ctl.scaffold.case import pascal_case, snake_case
from tasker_ctl.template.models import TaskTemplate

# Attribute names of pydantic's BaseModel that a field must not shadow.
_BASE_MODEL_NAMES = frozenset(
    {
        "construct",
        "copy",
        "dict",
        "json",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
        "from_orm",
        "model_config",
        "model_fields",
        "model_computed_fields",
        "model_extra",
        "model_fields_set",
        "model_construct",
        "model_copy",
        "model_dump",
        "model_dump_json",
        "model_json_schema",
        "model_parametrized_name",
        "model_post_init",
        "model_rebuild",
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
    }
)


class Kind(Enum):
    """What a schema node becomes in Python."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    ANY = "Any"
    LIST = "list"
    DICT = "dict"
    MODEL = "model"


@dataclass(frozen=True)
class TypeExpr:
    """The Python type of one schema node."""

    kind: Kind
    item: TypeExpr | None = None  # element type of LIST, value type of DICT
    model: ModelDef | None = None  # the nested model of MODEL
    enum: tuple[Any, ...] = ()

    def annotation(self) -> str:
        """The type as Python source: ``str``, ``list[Order]``, ``dict[str, Any]``."""
        if self.kind is Kind.MODEL:
            assert self.model is not None
            return self.model.name
        if self.kind is Kind.LIST:
            return f"list[{_item_annotation(self.item)}]"
        if self.kind is Kind.DICT:
            return f"dict[str, {_item_annotation(self.item)}]"
        return str(self.kind.value)

    def uses_any(self) -> bool:
        """Whether the annotation mentions ``Any``."""
        if self.kind is Kind.ANY:
            return True
        if self.kind in (Kind.LIST, Kind.DICT):
            return self.item is None or self.item.uses_any()
        return False


def _item_annotation(item: TypeExpr | None) -> str:
    return "Any" if item is None else item.annotation()


@dataclass(frozen=True)
class FieldDef:
    """One property of an object schema."""

    name: str  # the Python field name
    key: str  # the JSON key
    type: TypeExpr
    required: bool
    description: str | None = None

    @property
    def aliased(self) -> bool:
        """Whether the JSON key differs from the field name (and so needs ``alias=``)."""
        return self.name != self.key


@dataclass(frozen=True)
class ModelDef:
    """One generated pydantic model."""

    name: str
    description: str | None
    fields: tuple[FieldDef, ...] = field(default=())

    @property
    def aliased(self) -> bool:
        """Whether any field needs an alias."""
        return any(item.aliased for item in self.fields)

    def nested(self) -> Iterator[ModelDef]:
        """This model's nested models, deepest first, then the model itself."""
        for item in self.fields:
            yield from _models_in(item.type)
        yield self


def _models_in(expr: TypeExpr | None) -> Iterator[ModelDef]:
    if expr is None:
        return
    if expr.model is not None:
        yield from expr.model.nested()
    yield from _models_in(expr.item)


@dataclass(frozen=True)
class TemplateTypes:
    """The models of one template: its input and the result of each selected step."""

    input_model: ModelDef | None
    results: dict[str, ModelDef]  # step name -> result root

    def models(self) -> list[ModelDef]:
        """Every model, input first, nested models before their parents."""
        ordered: list[ModelDef] = []
        roots = [self.input_model, *self.results.values()]
        for root in roots:
            if root is not None:
                ordered.extend(root.nested())
        return ordered

    @property
    def empty(self) -> bool:
        """Whether there is nothing to generate."""
        return self.input_model is None and not self.results


def input_type_name(template: TaskTemplate) -> str:
    """``{Task}Input`` (reference §10.1)."""
    return f"{pascal_case(template.name)}Input"


def result_type_name(step_name: str) -> str:
    """``{Step}Result``, without a namespace prefix."""
    return f"{pascal_case(step_name)}Result"


def template_types(
    template: TaskTemplate, steps: Sequence[str], *, include_input: bool
) -> TemplateTypes:
    """Build the models for ``steps`` (those with a ``result_schema``) and, when asked, the input.

    Raises ``InvalidDataError`` naming the place when a schema node is not a JSON object.
    """
    names = _NameRegistry()
    input_model = None
    if include_input and template.input_schema is not None:
        input_model = _Builder(names).model(
            template.input_schema, input_type_name(template), "input_schema"
        )
    results: dict[str, ModelDef] = {}
    for step_name in steps:
        schema = template.step_named(step_name).result_schema
        if schema is not None:
            where = f"steps[{step_name}].result_schema"
            results[step_name] = _Builder(names).model(schema, result_type_name(step_name), where)
    return TemplateTypes(input_model, results)


def python_field_name(key: str) -> str:
    """The snake_case Python identifier for a JSON key; never a keyword or a BaseModel name."""
    name = snake_case(key) or "field"
    if name[0].isdigit():
        name = f"field_{name}"
    if keyword.iskeyword(name) or name in _BASE_MODEL_NAMES:
        name = f"{name}_"
    return name


class _NameRegistry:
    """Hands out model names, numbering a repeated one (``Item``, ``Item2``)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def claim(self, wanted: str) -> str:
        name, number = wanted, 1
        while name in self._used:
            number += 1
            name = f"{wanted}{number}"
        self._used.add(name)
        return name


class _Builder:
    def __init__(self, names: _NameRegistry) -> None:
        self._names = names

    def model(self, schema: Any, name: str, where: str) -> ModelDef:
        schema = _require_object(schema, where)
        model_name = self._names.claim(name)
        properties = _require_object(schema.get("properties", {}), f"{where}.properties")
        required = schema.get("required", [])
        required_keys = set(required) if isinstance(required, list) else set()
        fields: list[FieldDef] = []
        taken: set[str] = set()
        for key, subschema in properties.items():
            field_name = python_field_name(str(key))
            base, number = field_name, 1
            while field_name in taken:
                number += 1
                field_name = f"{base}_{number}"
            taken.add(field_name)
            nested_name = f"{model_name}{pascal_case(str(key)) or 'Field'}"
            expr = self.type_of(subschema, nested_name, f"{where}.properties.{key}")
            fields.append(
                FieldDef(field_name, str(key), expr, key in required_keys, _text(subschema))
            )
        return ModelDef(model_name, _text(schema), tuple(fields))

    def type_of(self, schema: Any, nested_name: str, where: str) -> TypeExpr:
        schema = _require_object(schema, where)
        if any(key in schema for key in ("$ref", "oneOf", "anyOf", "allOf")):
            return TypeExpr(Kind.ANY)
        enum = tuple(schema["enum"]) if isinstance(schema.get("enum"), list) else ()
        kind = _schema_type(schema)
        if kind == "string" or (kind is None and enum and all(isinstance(v, str) for v in enum)):
            return TypeExpr(Kind.STR, enum=enum)
        scalar = {"integer": Kind.INT, "number": Kind.FLOAT, "boolean": Kind.BOOL}.get(kind or "")
        if scalar is not None:
            return TypeExpr(scalar, enum=enum)
        if kind == "array":
            items = schema.get("items")
            if items is None or isinstance(items, bool):
                return TypeExpr(Kind.LIST, item=TypeExpr(Kind.ANY))
            return TypeExpr(Kind.LIST, item=self.type_of(items, nested_name, f"{where}.items"))
        if kind == "object" or (kind is None and "properties" in schema):
            return self._object(schema, nested_name, where)
        return TypeExpr(Kind.ANY)

    def _object(self, schema: dict[str, Any], nested_name: str, where: str) -> TypeExpr:
        if schema.get("properties"):
            return TypeExpr(Kind.MODEL, model=self.model(schema, nested_name, where))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            value = self.type_of(extra, nested_name, f"{where}.additionalProperties")
            return TypeExpr(Kind.DICT, item=value)
        return TypeExpr(Kind.DICT, item=TypeExpr(Kind.ANY))


def _schema_type(schema: dict[str, Any]) -> str | None:
    """The schema's ``type``; a ``[T, "null"]`` pair counts as ``T``, other unions as unknown."""
    declared = schema.get("type")
    if isinstance(declared, list):
        concrete = [item for item in declared if item != "null"]
        return concrete[0] if len(concrete) == 1 and isinstance(concrete[0], str) else "union"
    return declared if isinstance(declared, str) else None


def _text(schema: Any) -> str | None:
    description = schema.get("description") if isinstance(schema, dict) else None
    return description.strip() or None if isinstance(description, str) else None


def _require_object(schema: Any, where: str) -> dict[str, Any]:
    if not isinstance(schema, dict):
        raise InvalidDataError(
            f"{where}: schema must be a JSON object, got: {schema!r}",
            hint="every schema and property definition is a mapping such as {type: string}",
        )
    return schema

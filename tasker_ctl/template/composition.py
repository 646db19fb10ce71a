"""Checks of a step's ``composition:`` block that need no capability registry (Tasker TAS-337).

Tasker's SDK validator deserialises the block into its composition spec, compares the
composition's declared output with the step's ``result_schema``, and asks that the step's
callable use the ``grammar:`` prefix. The facts reproduced here: the spec's shape (``name``,
``outcome {description, output_schema}``, ``invocations [{capability, config, checkpoint}]``,
other keys ignored), the wording of its parse errors (serde's), and the structural-subtyping
rules of its schema comparison (the producer must provide every field the consumer requires,
with compatible types; integer satisfies number; optional fields only warn). Checks against the
capability registry itself are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tasker_ctl.template.findings import Severity

GRAMMAR_PREFIX = "grammar:"
RESULT_SCHEMA_LABEL = "step result_schema vs composition outcome"
_MAX_SCHEMA_DEPTH = 32
_JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")


@dataclass(frozen=True)
class _Field:
    name: str
    expected: str  # "string", "boolean", "any", "sequence of <struct>", or a struct name
    required: bool


_STRUCTS: dict[str, tuple[_Field, ...]] = {
    "CompositionSpec": (
        _Field("name", "optional string", required=False),
        _Field("outcome", "OutcomeDeclaration", required=True),
        _Field("invocations", "sequence of CapabilityInvocation", required=True),
    ),
    "OutcomeDeclaration": (
        _Field("description", "string", required=True),
        _Field("output_schema", "any", required=True),
    ),
    "CapabilityInvocation": (
        _Field("capability", "string", required=True),
        _Field("config", "any", required=True),
        _Field("checkpoint", "boolean", required=False),
    ),
}


def parse_error(composition: Any) -> str | None:
    """Why ``composition`` is not a composition spec, worded as Tasker words it; else None."""
    try:
        _check_struct(composition, "CompositionSpec")
    except _ParseError as exc:
        return str(exc)
    return None


class _ParseError(Exception):
    pass


def _unexpected(value: Any) -> str:
    if value is None:
        return "unit value"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value!r}`"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'string "{escaped}"'
    if isinstance(value, list):
        return "sequence"
    return "map"


def _invalid_type(value: Any, expected: str) -> _ParseError:
    return _ParseError(f"invalid type: {_unexpected(value)}, expected {expected}")


def _check_struct(value: Any, struct: str) -> None:
    if not isinstance(value, Mapping):
        raise _invalid_type(value, f"struct {struct}")
    fields = _STRUCTS[struct]
    known = {item.name: item for item in fields}
    # The spec is read from a sorted map, so its keys are visited in sorted order.
    for key in sorted(str(k) for k in value):
        if key in known:
            _check_value(value[key], known[key].expected)
    for item in fields:
        if item.required and item.name not in value:
            raise _ParseError(f"missing field `{item.name}`")


def _check_value(value: Any, expected: str) -> None:
    if expected == "any":
        return
    if expected == "optional string":
        if value is not None and not isinstance(value, str):
            raise _invalid_type(value, "a string")
    elif expected == "string":
        if not isinstance(value, str):
            raise _invalid_type(value, "a string")
    elif expected == "boolean":
        if not isinstance(value, bool):
            raise _invalid_type(value, "a boolean")
    elif expected.startswith("sequence of "):
        if not isinstance(value, list):
            raise _invalid_type(value, "a sequence")
        for item in value:
            _check_struct(item, expected.removeprefix("sequence of "))
    else:
        _check_struct(value, expected)


def output_schema(composition: Mapping[str, Any]) -> Any:
    """The schema a (parsed) composition declares for its output."""
    return composition["outcome"]["output_schema"]


# --- schema compatibility (producer must provide what the consumer requires) -----------------


@dataclass(frozen=True)
class _Shape:
    required: tuple[str, ...]
    properties: dict[str, Any]
    types: tuple[str, ...]
    items: Any


def _shape(value: Any) -> _Shape | None:
    """The parts of a schema the comparison reads; None for a missing, empty or odd schema."""
    if value is None or not isinstance(value, Mapping) or not value:
        return None
    required = value.get("required", [])
    properties = value.get("properties", {})
    declared = value.get("type")
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return None
    if not isinstance(properties, Mapping):
        return None
    if isinstance(declared, str):
        types: tuple[str, ...] = (declared,) if declared in _JSON_TYPES else ()
    elif isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        types = tuple(t for t in declared if t in _JSON_TYPES)
    elif declared is None:
        types = ()
    else:
        return None
    return _Shape(tuple(required), dict(properties), types, value.get("items"))


def _satisfies(producer: str, consumer: str) -> bool:
    return producer == consumer or (producer == "integer" and consumer == "number")


def schema_compatibility(
    producer: Any, consumer: Any, label: str = RESULT_SCHEMA_LABEL
) -> list[tuple[Severity, str]]:
    """Where ``producer`` fails to provide what ``consumer`` requires, with severities."""
    return list(_compatibility(producer, consumer, label, 0))


def _compatibility(
    producer: Any, consumer: Any, label: str, depth: int
) -> Iterator[tuple[Severity, str]]:
    if depth > _MAX_SCHEMA_DEPTH:
        yield (
            Severity.WARNING,
            f"{label}: schema nesting exceeds maximum depth of {_MAX_SCHEMA_DEPTH}, "
            "skipping deeper checks",
        )
        return
    wanted = _shape(consumer)
    if wanted is None:
        return
    offered = _shape(producer)
    if offered is None:
        yield Severity.ERROR, f"{label}: consumer expects a schema but producer declares none"
        return
    for name in wanted.required:
        if name not in offered.properties:
            yield (
                Severity.ERROR,
                f"{label}: consumer requires field '{name}' but producer output does not "
                "contain it",
            )
            continue
        if name in wanted.properties:
            yield from _types(offered.properties[name], wanted.properties[name], name, label, depth)
    for name in sorted(wanted.properties):
        if name in wanted.required or name not in offered.properties:
            continue
        for _severity, message in _types(
            offered.properties[name], wanted.properties[name], name, label, depth
        ):
            yield Severity.WARNING, message


def _types(
    producer: Any, consumer: Any, name: str, label: str, depth: int
) -> Iterator[tuple[Severity, str]]:
    offered = _shape(producer) or _Shape((), {}, (), None)
    wanted = _shape(consumer) or _Shape((), {}, (), None)
    if not offered.types or not wanted.types:
        return
    for consumer_type in wanted.types:
        if not any(_satisfies(t, consumer_type) for t in offered.types):
            yield (
                Severity.ERROR,
                f"{label}: field '{name}' type mismatch — producer provides "
                f"[{', '.join(offered.types)}] but consumer expects '{consumer_type}'",
            )
    if "object" in offered.types and "object" in wanted.types:
        yield from _compatibility(producer, consumer, label, depth + 1)
    if (
        "array" in offered.types
        and "array" in wanted.types
        and offered.items is not None
        and wanted.items is not None
    ):
        yield from _compatibility(offered.items, wanted.items, f"{label}[].{name}", depth + 1)

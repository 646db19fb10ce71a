"""JSON Schema in one place: whether a schema compiles, and every way data breaks one.

Backed by jsonschema-rs (the Python binding of the Rust ``jsonschema`` crate): it imports in a
few milliseconds and checks a schema in microseconds, so linting a template with thousands of
``result_schema`` blocks stays fast, and it checks every format (email, date-time, duration,
uri, iri, uuid, …) without extra packages.

* A schema is checked against the metaschema of its dialect (``$schema``, else 2020-12), which
  reports every problem with its place; a schema that passes is then compiled, which also
  catches what no metaschema says: a ``pattern`` that is not a regular expression, a ``$ref``
  that points nowhere, an unknown ``$schema``.
* Remote ``$ref`` targets are never fetched: a local tool does not reach the network to lint a
  file or create a task. Such a schema does not compile; the fix is to inline it under
  ``$defs``.
* Data is checked with format checks on, and every violation comes back with its path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema_rs

JsonPath = tuple[str | int, ...]

# The metaschema each dialect's documents are checked against, by the validator class that
# jsonschema-rs picks for a schema's ``$schema``.
_METASCHEMA_URIS = {
    "Draft4Validator": "http://json-schema.org/draft-04/schema#",
    "Draft6Validator": "http://json-schema.org/draft-06/schema#",
    "Draft7Validator": "http://json-schema.org/draft-07/schema#",
    "Draft201909Validator": "https://json-schema.org/draft/2019-09/schema",
    "Draft202012Validator": "https://json-schema.org/draft/2020-12/schema",
}


def schema_problems(schema: Any) -> list[tuple[str, JsonPath]]:
    """Why ``schema`` does not compile, as ``(message, place in the schema)``; empty if it does.

    Each distinct schema is checked once per process.
    """
    key = _cache_key(schema)
    verdict = _schema_verdicts.get(key)
    if verdict is None:
        verdict = _schema_verdicts[key] = _check_schema(schema)
    return verdict


class SchemaCompileError(ValueError):
    """A schema that cannot be compiled: why, and where in the schema."""

    def __init__(self, message: str, where: JsonPath) -> None:
        super().__init__(_placed(message, where) if where else message)
        self.where = where


def data_problems(schema: Any, data: Any) -> list[tuple[JsonPath, str]]:
    """Every way ``data`` breaks ``schema``, as ``(place in the data, message)``, in order.

    ``schema`` must compile (see :func:`schema_problems`); ``SchemaCompileError`` says why it
    does not.
    """
    return [
        (tuple(error.instance_path), _first_line(error.message))
        for error in _compiled(schema).iter_errors(data)
    ]


_schema_verdicts: dict[str, list[tuple[str, JsonPath]]] = {}
_validators: dict[str, jsonschema_rs.Validator] = {}
_metaschema_validators: dict[str, jsonschema_rs.Validator] = {}


def _check_schema(schema: Any) -> list[tuple[str, JsonPath]]:
    problems = sorted(_metaschema_problems(schema), key=lambda problem: _sortable(problem[1]))
    if problems:
        return problems
    try:
        _compiled(schema)
    except SchemaCompileError as exc:
        return [(str(exc), exc.where)]
    return []


def _metaschema_problems(schema: Any) -> Iterator[tuple[str, JsonPath]]:
    import jsonschema_rs

    dialect = jsonschema_rs.validator_cls_for(schema).__name__
    checker = _metaschema_validators.get(dialect)
    if checker is None:
        checker = getattr(jsonschema_rs, dialect)({"$ref": _METASCHEMA_URIS[dialect]})
        _metaschema_validators[dialect] = checker
    for error in checker.iter_errors(schema):
        where = tuple(error.instance_path)
        yield _placed(_first_line(error.message), where), where


def _compiled(schema: Any) -> jsonschema_rs.Validator:
    """The validator for ``schema``, built once; ``SchemaCompileError`` when it cannot be."""
    import jsonschema_rs

    key = _cache_key(schema)
    validator = _validators.get(key)
    if validator is None:
        try:
            validator = jsonschema_rs.validator_for(schema, validate_formats=True, offline=True)
        except jsonschema_rs.ValidationError as exc:
            raise SchemaCompileError(_compile_message(exc), tuple(exc.instance_path)) from exc
        _validators[key] = validator
    return validator


def _compile_message(error: jsonschema_rs.ValidationError) -> str:
    message = _first_line(error.message)
    if "Retrieval is disabled" in message:
        reference = message.split("'")[1] if message.count("'") >= 2 else "a remote $ref"
        message = (
            f"{reference} is not fetched: tasker-ctl does not reach the network; "
            "copy that schema under $defs and refer to it as #/$defs/…"
        )
    return message


def _cache_key(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, default=str)


def _placed(message: str, where: JsonPath) -> str:
    """``message`` followed by its place in the schema, e.g. ``(at properties/a/type)``."""
    return f"{message} (at {'/'.join(str(part) for part in where) or '(root)'})"


def _first_line(message: str) -> str:
    return message.split("\n", 1)[0].strip()


def _sortable(path: JsonPath) -> list[tuple[int, str]]:
    # Keys and indexes mixed in one path: compare as (kind, text) so sorting never fails.
    return [(0, f"{part:012d}") if isinstance(part, int) else (1, part) for part in path]

"""Validate task-template files: parse, recognise the legacy format, check keys, model and rules.

The stages run in order and each adds findings: reading the YAML (``YAML_PARSE_ERROR``), the
legacy Rails-engine format (``LEGACY_TEMPLATE_FORMAT``, which stops there), keys the model does
not know (``UNKNOWN_FIELD``/``MISSPELT_FIELD``), the pydantic model (type errors, unknown step
types, both keys of an alias pair) and, when the model parses, the rules in
:mod:`tasker_ctl.template.rules`. Handler code is never imported.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tasker_ctl.errors import InvalidDataError, UsageError, closest
from tasker_ctl.template import rules
from tasker_ctl.template.files import template_files_under
from tasker_ctl.template.findings import FileReport, Finding, Severity
from tasker_ctl.template.json_schema import JsonPath
from tasker_ctl.template.models import (
    DUPLICATE_ALIAS_ERROR,
    INVALID_STEP_TYPE_ERROR,
    RetryPolicy,
    StepDefinition,
    TaskTemplate,
    model_field_keys,
)
from tasker_ctl.template.source import (
    SourceDocument,
    SourceError,
    parse_source,
    read_source,
)

# Keys Tasker documents or fixtures use that its model ignores, and why.
IGNORED_KEYS: dict[type[BaseModel], dict[str, str]] = {
    TaskTemplate: {"task_handler": "task_handler is not a Tasker field; it is ignored"},
    StepDefinition: {
        "lifecycle": "lifecycle belongs at the top level; at step level it is ignored",
        "initial_delay": "initial_delay is not a Tasker step field; it is ignored",
    },
    RetryPolicy: {"limit": "limit is an old key; use max_attempts"},
}

LEGACY_HINT = (
    "convert it: step_templates -> steps; handler_class -> handler.callable (a Python handler, "
    "not the Ruby class); depends_on_step/depends_on_steps -> dependencies; handler_config -> "
    "handler.initialization; default_retryable/default_retry_limit -> retry.retryable/"
    "retry.max_attempts; schema -> input_schema; drop module_namespace and task_handler_class"
)


def validate_file(path: Path, text: str | None = None) -> FileReport:
    """Every finding for one template file (or for ``text`` read elsewhere, shown as ``path``)."""
    report = FileReport(path=path)
    try:
        source = read_source(path) if text is None else parse_source(text, path)
    except SourceError as exc:
        report.findings.append(
            Finding("YAML_PARSE_ERROR", Severity.ERROR, exc.message, None, exc.line)
        )
        return report
    data = source.data
    if not isinstance(data, dict):
        message = f"a template is a YAML mapping of keys, not a {_yaml_kind(data)}"
        report.findings.append(Finding("YAML_PARSE_ERROR", Severity.ERROR, message, None, 1))
        return report
    raw_steps = data.get("steps")
    report.step_count = len(raw_steps) if isinstance(raw_steps, list) else 0
    if "step_templates" in data and "steps" not in data:
        report.findings.append(_legacy_finding(source))
        return report
    report.findings.extend(_unknown_keys(TaskTemplate, data, (), source))
    try:
        template = TaskTemplate.model_validate(data)
    except ValidationError as exc:
        report.findings.extend(_model_findings(exc, source))
        return report
    context = rules.run_rules(template, source)
    report.findings.extend(context.findings)
    report.has_cycles = context.has_cycles
    report.template = template
    return report


def validate_paths(paths: Iterable[Path]) -> list[FileReport]:
    """Validate files and, recursively, the ``*.yaml``/``*.yml`` files of directories."""
    return [validate_file(path) for path in expand_paths(paths)]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given (always checked), directories expanded to the templates under them.

    A directory walk skips what linters skip and files that are not templates
    (:func:`tasker_ctl.template.files.template_files_under`).
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(template_files_under(path))
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(
                f"{path}: no such file or directory",
                hint="pass template files or directories that contain *.yaml / *.yml files",
            )
    return files


def load_template(path: Path, text: str | None = None) -> TaskTemplate:
    """Load a valid template, or raise ``InvalidDataError`` naming its first error."""
    report = validate_file(path, text)
    error = report.first_error()
    if error is not None or report.template is None:
        where = f"{path}:{error.line}" if error and error.line else str(path)
        message = error.message if error else "not a valid template"
        raise InvalidDataError(
            f"{where}: {message}", hint=f"run 'tasker-ctl template validate {path}' for details"
        )
    return report.template


def _legacy_finding(source: SourceDocument) -> Finding:
    message = (
        "This is the legacy Rails-engine template format (step_templates), which Tasker no "
        f"longer runs; {LEGACY_HINT}"
    )
    return Finding(
        "LEGACY_TEMPLATE_FORMAT",
        Severity.ERROR,
        message,
        None,
        source.key_line_of(("step_templates",)),
    )


def _unknown_keys(
    model: type[BaseModel], raw: Any, path: JsonPath, source: SourceDocument
) -> Iterator[Finding]:
    """Keys the model would silently ignore; near-misses of real keys are errors."""
    if not isinstance(raw, dict):
        return
    known = _known_keys(model)
    ignored = IGNORED_KEYS.get(model, {})
    for key, value in raw.items():
        key_path = (*path, key)
        entry = known.get(key)
        if entry is None:
            yield _unknown_key_finding(key, known, ignored, key_path, source)
            continue
        nested = entry[1]
        if nested is None:
            continue
        kind, submodel = nested
        if kind == "one":
            yield from _unknown_keys(submodel, value, key_path, source)
        elif kind == "seq" and isinstance(value, list):
            for index, item in enumerate(value):
                yield from _unknown_keys(submodel, item, (*key_path, index), source)
        elif kind == "map" and isinstance(value, dict):
            for name, item in value.items():
                yield from _unknown_keys(submodel, item, (*key_path, name), source)


def _unknown_key_finding(
    key: str,
    known: Mapping[str, object],
    ignored: dict[str, str],
    path: JsonPath,
    source: SourceDocument,
) -> Finding:
    where = _describe_path(path[:-1], source)
    line = source.key_line_of(path)
    step = _step_name(path, source)
    if key in ignored:
        message = f"Unknown key '{key}' in {where}: {ignored[key]}"
        return Finding("UNKNOWN_FIELD", Severity.INFO, message, step, line)
    suggestion = closest(key, known)
    if suggestion:
        message = (
            f"Unknown key '{key}' in {where} (did you mean '{suggestion}'?); "
            "Tasker would silently ignore it"
        )
        return Finding("MISSPELT_FIELD", Severity.ERROR, message, step, line)
    message = f"Unknown key '{key}' in {where}; Tasker ignores it"
    return Finding("UNKNOWN_FIELD", Severity.INFO, message, step, line)


Nesting = tuple[str, type[BaseModel]]


@functools.cache
def _known_keys(model: type[BaseModel]) -> dict[str, tuple[str, Nesting | None]]:
    """``key -> (field name, how the field nests a sub-model)`` for every key ``model`` takes."""
    return {
        key: (field_name, _nested_model(model.model_fields[field_name].annotation))
        for key, field_name in model_field_keys(model).items()
    }


def _nested_model(annotation: Any) -> Nesting | None:
    """How a field holds sub-models: ``one``, a ``seq`` of them, or a ``map`` to them."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        for argument in arguments:
            found = _nested_model(argument)
            if found:
                return found
        return None
    if origin is tuple and arguments and _is_model(arguments[0]):
        return ("seq", arguments[0])
    if origin is dict and len(arguments) == 2 and _is_model(arguments[1]):
        return ("map", arguments[1])
    if _is_model(annotation):
        return ("one", annotation)
    return None


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _model_findings(exc: ValidationError, source: SourceDocument) -> list[Finding]:
    findings = []
    for error in exc.errors(include_url=False):
        loc: JsonPath = tuple(error["loc"])
        step = _step_name(loc, source)
        if error["type"] == DUPLICATE_ALIAS_ERROR:
            code = "DUPLICATE_ALIAS_KEY"
        elif error["type"] == INVALID_STEP_TYPE_ERROR:
            code = "INVALID_STEP_TYPE"
        elif error["type"] == "missing":
            code = "MISSING_REQUIRED_KEY"
        else:
            code = "YAML_PARSE_ERROR"
        message = f"{_describe_path(loc, source)}: {_describe_problem(error)}"
        findings.append(Finding(code, Severity.ERROR, message, step, source.line_of(loc)))
    return findings


def _describe_problem(error: Any) -> str:
    if error["type"] == "missing":
        return "this required key is missing"
    message: str = error["msg"]
    return message.removeprefix("Value error, ")


def _describe_path(loc: JsonPath, source: SourceDocument) -> str:
    """``step 'validate' handler.callable`` or ``top level`` for a location in the file."""
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        name = _step_name(loc, source)
        head = f"step '{name}'" if name else f"steps[{loc[1]}]"
        rest = _dotted(loc[2:])
        return f"{head} {rest}".rstrip() if rest else head
    return _dotted(loc) or "the top level"


def _dotted(loc: JsonPath) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _step_name(loc: JsonPath, source: SourceDocument) -> str | None:
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        steps = source.data.get("steps") if isinstance(source.data, dict) else None
        if isinstance(steps, list) and loc[1] < len(steps) and isinstance(steps[loc[1]], dict):
            name = steps[loc[1]].get("name")
            return name if isinstance(name, str) else None
    return None


def _yaml_kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    return "single value" if value is not None else "null"

"""``--param KEY=VALUE`` arguments: parsing them and checking them against ``template.toml``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from tasker_ctl.errors import UsageError, did_you_mean
from tasker_ctl.scaffold.metadata import TemplateMetadata


def parse_params(raw: Sequence[str]) -> dict[str, str]:
    """``["name=X", "a=b=c"]`` → ``{"name": "X", "a": "b=c"}`` (split on the first ``=``)."""
    params: dict[str, str] = {}
    for item in raw:
        key, separator, value = item.partition("=")
        key = key.strip()
        if not separator or not key:
            raise UsageError(
                f"invalid parameter format: '{item}'. Expected key=value",
                hint="pass each parameter as --param KEY=VALUE, e.g. --param name=ProcessPayment",
            )
        if key in params:
            raise UsageError(
                f"parameter '{key}' is given twice", hint="pass each --param key only once"
            )
        params[key] = value
    return params


def resolve_params(metadata: TemplateMetadata, given: Mapping[str, str]) -> dict[str, str]:
    """The rendering context: the given values plus defaults, after every check passes.

    Unknown keys, missing required values and values that do not match a parameter's
    ``pattern`` are usage errors that name the parameter.
    """
    info_hint = f"use 'tasker-ctl template info {metadata.name}' to see its parameters"
    declared = [param.name for param in metadata.parameters]
    for key in given:
        if metadata.parameter(key) is None:
            known = ", ".join(declared) or "none"
            raise UsageError(
                f"unknown parameter '{key}' for template '{metadata.name}'"
                f"{did_you_mean(key, declared)}",
                hint=f"its parameters are: {known}",
            )
    missing = [
        param.name for param in metadata.parameters if param.needs_value and param.name not in given
    ]
    if missing:
        noun = "parameter" if len(missing) == 1 else "parameters"
        raise UsageError(
            f"Parameter validation failed: missing required {noun}: {', '.join(missing)}",
            hint=f"pass --param {missing[0]}=VALUE; "
            f"use 'tasker-ctl template info {metadata.name}' to see required parameters",
        )
    context: dict[str, str] = {}
    for param in metadata.parameters:
        value = given.get(param.name, param.default)
        if value is None:
            context[param.name] = ""  # declared but optional: templates may test it with {% if %}
            continue
        if param.pattern is not None and re.fullmatch(param.pattern, value) is None:
            raise UsageError(
                f"parameter '{param.name}' value '{value}' does not match {param.pattern}",
                hint=f"{param.description or param.name}; {info_hint}",
            )
        context[param.name] = value
    return context

"""Task input: reading ``JSON | @FILE | -`` arguments, and checking input against ``input_schema``.

The check (:mod:`tasker_ctl.template.json_schema`) uses the schema's declared draft (2020-12 by
default) with format checks on (email, date-time, uri, …), and reports *every* violation with a
JSON path such as ``$.customer.email`` or ``$.items[2].sku``.

Input is bounded before it is decoded: at most ``max_bytes`` (:data:`DEFAULT_MAX_INPUT_BYTES`
unless configured; a file is refused from its size, standard input after that many bytes) and
at most :data:`MAX_INPUT_DEPTH` levels of nesting, so that neither memory nor Python's recursion
limit decides what happens to a hostile or mistaken input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tasker_ctl.config import DEFAULT_MAX_INPUT_MIB, MEBIBYTE
from tasker_ctl.errors import InvalidDataError, UsageError

DEFAULT_MAX_INPUT_BYTES = DEFAULT_MAX_INPUT_MIB * MEBIBYTE
MAX_INPUT_DEPTH = 200
_SIZE_HINT = "raise the limit with max-input-mib in .tasker-ctl.toml or TASKER_CTL_MAX_INPUT_MIB"


@dataclass(frozen=True)
class InputViolation:
    """One way the input breaks the schema: where (a JSON path) and what."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        """``{"path", "message"}``."""
        return {"path": self.path, "message": self.message}


class InputValidationError(InvalidDataError):
    """The task input does not match the template's ``input_schema`` (exit code 65)."""

    def __init__(self, message: str, violations: list[InputViolation], *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.violations = violations


def read_json_argument(
    raw: str,
    *,
    option: str,
    stdin: IO[str] | None = None,
    max_bytes: int = DEFAULT_MAX_INPUT_BYTES,
) -> Any:
    """Decode a command-line JSON value given inline, as ``@FILE``, or as ``-`` (stdin).

    Larger than ``max_bytes`` or nested deeper than :data:`MAX_INPUT_DEPTH`: ``InvalidDataError``.
    """
    if raw == "-":
        source = "standard input"
        text = (stdin or sys.stdin).read(max_bytes + 1)
    elif raw.startswith("@"):
        path = Path(raw[1:])
        source = str(path)
        try:
            if path.is_file():
                _require_size(path.stat().st_size, source, max_bytes)
            with path.open(encoding="utf-8") as handle:
                text = handle.read(max_bytes + 1)
        except FileNotFoundError as exc:
            raise UsageError(
                f"{option}: no such file {path}", hint=f"give {option} @FILE with a JSON file"
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{option}: cannot read {path}: {exc}") from exc
    else:
        source = option
        text = raw
    _require_size(len(text.encode("utf-8")), source, max_bytes)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = f"{option} takes JSON, @FILE or - (standard input), e.g. {option} '{{\"id\": 1}}'"
        if source == option and _names_a_file(raw):
            hint = f"{raw} is a file: to read it, write {option} @{raw}"
        raise InvalidDataError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            hint=hint,
        ) from exc
    except RecursionError:
        raise _too_deep(source) from None
    require_nesting_within_limit(value, source)
    return value


def _names_a_file(raw: str) -> bool:
    """Whether an inline value that is not JSON is the path of an existing file (``@`` left
    out); a value that cannot be a path at all (too long, a NUL) is not one."""
    try:
        return Path(raw).is_file()
    except (OSError, ValueError):
        return False


def _require_size(size: int, source: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise InvalidDataError(
            f"{source} is over the {_mebibytes(max_bytes)} limit for JSON input",
            hint=_SIZE_HINT,
        )


def _mebibytes(size: int) -> str:
    return f"{size / MEBIBYTE:g} MiB"


def _too_deep(source: str) -> InvalidDataError:
    return InvalidDataError(
        f"{source} nests deeper than {MAX_INPUT_DEPTH} levels",
        hint="flatten the input: task input is stored and handed to every step as JSON",
    )


def require_nesting_within_limit(value: Any, source: str) -> None:
    """Refuse ``value`` when its objects and arrays nest deeper than :data:`MAX_INPUT_DEPTH`.

    Walked with an explicit stack: a deep value must not exhaust the interpreter's own.
    """
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_INPUT_DEPTH:
            raise _too_deep(source)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def json_path(parts: Any) -> str:
    """``$``-rooted JSON path for a sequence of keys and indexes, e.g. ``$.items[2].sku``."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text


def check_input(schema: Mapping[str, Any], data: Any) -> list[InputViolation]:
    """Every violation of ``schema`` by ``data``, sorted by path; empty when the input is valid."""
    from tasker_ctl.template.json_schema import SchemaCompileError, data_problems

    try:
        problems = data_problems(dict(schema), data)
    except SchemaCompileError as exc:
        raise InvalidDataError(
            f"the template's input_schema is not a valid JSON Schema: {exc}",
            hint="run `tasker-ctl template validate` on the template file",
        ) from exc
    violations = [InputViolation(path=json_path(where), message=text) for where, text in problems]
    return sorted(violations, key=lambda v: (v.path, v.message))


def require_valid_input(
    schema: Mapping[str, Any] | None, data: Any, *, what: str, given: bool = True
) -> None:
    """Raise ``InputValidationError`` listing every violation; no schema means anything goes.

    ``given=False`` says no input was given (``data`` is the empty default): a schema that
    does not accept it is then a missing argument (``UsageError``), not bad data.
    """
    if schema is None:
        return
    violations = check_input(schema, data)
    if not violations:
        return
    count = len(violations)
    problems = f"({count} problem{'s' if count != 1 else ''}):"
    details = [f"  {violation.path}: {violation.message}" for violation in violations]
    if not given:
        raise UsageError(
            "\n".join(
                [f"no input given, and the input_schema of {what} needs one {problems}", *details]
            ),
            hint="give the input with --input JSON, --input @FILE or --input - (standard input)",
        )
    raise InputValidationError(
        "\n".join([f"the input does not match the input_schema of {what} {problems}", *details]),
        violations,
        hint="fix the input, or pass --no-validate to store it unchecked",
    )

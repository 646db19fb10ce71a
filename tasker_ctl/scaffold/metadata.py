"""``template.toml``: a scaffold template's parameters and the files it writes.

The format is the reference CLI's, plus two optional keys that contrib plugins simply do not use:

* ``[[parameters]] pattern``: a regular expression the whole value must match, checked before
  anything renders (the bundled plugin uses it to keep names to identifiers);
* ``[[outputs]] keep_existing``: the file is written only when it does not exist yet and is never
  overwritten, even with ``--force`` (package markers such as ``__init__.py``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasker_ctl.errors import InvalidDataError

METADATA_FILENAME = "template.toml"


@dataclass(frozen=True)
class Parameter:
    """A ``--param`` the template accepts."""

    name: str
    description: str
    required: bool = False
    default: str | None = None
    pattern: str | None = None

    @property
    def needs_value(self) -> bool:
        """Required and without a default (a default satisfies ``required``)."""
        return self.required and self.default is None


@dataclass(frozen=True)
class Output:
    """A file the template writes: ``template`` rendered to ``subdir/filename`` (both rendered)."""

    template: str
    filename: str
    subdir: str | None = None
    keep_existing: bool = False

    @property
    def path_pattern(self) -> str:
        """The unrendered output path, as ``template info`` shows it."""
        return f"{self.subdir}/{self.filename}" if self.subdir else self.filename


@dataclass(frozen=True)
class TemplateMetadata:
    """A loaded ``template.toml`` and the directory it came from."""

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    outputs: tuple[Output, ...]
    directory: Path

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name``, if the template declares it."""
        return next((param for param in self.parameters if param.name == name), None)


def load_template_metadata(directory: Path, plugin_root: Path | None = None) -> TemplateMetadata:
    """Read ``directory/template.toml``; raise ``InvalidDataError`` naming the file and key.

    An output's ``template`` file is looked up in ``directory``, then in ``plugin_root`` (files
    a plugin's templates share), as the renderer looks it up.
    """
    path = directory / METADATA_FILENAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidDataError(
            f"{path}: missing {METADATA_FILENAME}",
            hint="every template directory needs a template.toml with name, description, outputs",
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidDataError(f"{path}: cannot read: {exc}", hint="fix the TOML syntax") from exc
    reader = _Reader(path)
    name = reader.string(raw, "name")
    description = reader.string(raw, "description")
    parameters = tuple(
        _parameter(reader, item, f"parameters[{index}]")
        for index, item in enumerate(reader.tables(raw, "parameters"))
    )
    seen: set[str] = set()
    for param in parameters:
        if param.name in seen:
            raise reader.error(f"parameter '{param.name}' is declared twice")
        seen.add(param.name)
    search = (directory,) if plugin_root is None else (directory, plugin_root)
    outputs = tuple(
        _output(reader, item, f"outputs[{index}]", search)
        for index, item in enumerate(reader.tables(raw, "outputs"))
    )
    if not outputs:
        raise reader.error("declares no [[outputs]]")
    return TemplateMetadata(name, description, parameters, outputs, directory)


def _parameter(reader: _Reader, table: dict[str, Any], where: str) -> Parameter:
    pattern = reader.optional_string(table, "pattern", where)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise reader.error(f"{where}.pattern is not a valid regular expression: {exc}") from exc
    return Parameter(
        name=reader.string(table, "name", where),
        description=reader.optional_string(table, "description", where) or "",
        required=reader.boolean(table, "required", where),
        default=reader.optional_string(table, "default", where),
        pattern=pattern,
    )


def _output(reader: _Reader, table: dict[str, Any], where: str, search: tuple[Path, ...]) -> Output:
    template = reader.string(table, "template", where)
    if not any((directory / template).is_file() for directory in search):
        raise reader.error(f"{where}.template '{template}' does not exist in {search[0]}")
    return Output(
        template=template,
        filename=reader.string(table, "filename", where),
        subdir=reader.optional_string(table, "subdir", where),
        keep_existing=reader.boolean(table, "keep_existing", where),
    )


class _Reader:
    """Typed access to TOML values, with errors that name the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, message: str) -> InvalidDataError:
        return InvalidDataError(
            f"{self.path}: {message}", hint="fix template.toml (see scaffolds/README.md)"
        )

    def string(self, table: dict[str, Any], key: str, where: str = "") -> str:
        value = self.optional_string(table, key, where)
        if value is None or not value.strip():
            raise self.error(f"{_dotted(where, key)} is required")
        return value

    def optional_string(self, table: dict[str, Any], key: str, where: str = "") -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(f"{_dotted(where, key)} must be a string")
        return value

    def boolean(self, table: dict[str, Any], key: str, where: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.error(f"{_dotted(where, key)} must be true or false")
        return value

    def tables(self, raw: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.error(f"'{key}' must be an array of tables ([[{key}]])")
        return value


def _dotted(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key

"""``tasker-plugin.toml``: what a scaffold plugin declares about itself and its templates.

The format is the reference CLI's (a ``[plugin]`` table and ``[[templates]]`` entries whose
``path`` is relative to the manifest), so that tasker-contrib plugins load unchanged.
Reading never raises for a bad manifest: it returns the problems, worded as the reference's
``plugin validate`` words them, so discovery can warn and ``plugin validate`` can list them all.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_FILENAME = "tasker-plugin.toml"


@dataclass(frozen=True)
class TemplateEntry:
    """One ``[[templates]]`` entry: a directory holding ``template.toml`` and ``*.tera`` files."""

    name: str
    description: str
    directory: Path


@dataclass(frozen=True)
class Plugin:
    """A loaded plugin manifest."""

    name: str
    version: str
    description: str
    language: str
    framework: str | None
    manifest_path: Path
    templates: tuple[TemplateEntry, ...]

    @property
    def root(self) -> Path:
        """The directory holding the manifest."""
        return self.manifest_path.parent

    @property
    def scope(self) -> str:
        """``language/framework`` as the listings show it, with ``-`` for no framework."""
        return f"{self.language}/{self.framework or '-'}"


@dataclass(frozen=True)
class ManifestReading:
    """The result of reading a manifest: the plugin when it could be built, and every problem."""

    plugin: Plugin | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the plugin loaded and nothing is wrong with it."""
        return self.plugin is not None and not self.problems


def read_manifest(manifest_path: Path) -> ManifestReading:
    """Read and check ``manifest_path``; template paths must exist and be directories."""
    try:
        text = manifest_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return ManifestReading(None, [f"failed to read {manifest_path}: {exc}"])
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return ManifestReading(None, [f"failed to parse {manifest_path}: {exc}"])

    def unparsable(reason: str) -> ManifestReading:
        return ManifestReading(None, [f"failed to parse {manifest_path}: {reason}"])

    table = raw.get("plugin")
    if not isinstance(table, dict):
        return unparsable("missing table [plugin]")
    strings: dict[str, str] = {}
    for key in ("name", "version", "description", "language"):
        value = table.get(key)
        if value is None:
            return unparsable(f"missing field 'plugin.{key}'")
        if not isinstance(value, str):
            return unparsable(f"'plugin.{key}' must be a string")
        strings[key] = value
    framework = table.get("framework")
    if framework is not None and not isinstance(framework, str):
        return unparsable("'plugin.framework' must be a string")
    entries = raw.get("templates", [])
    if not isinstance(entries, list) or not all(isinstance(item, dict) for item in entries):
        return unparsable("'templates' must be an array of tables ([[templates]])")

    problems: list[str] = []
    if not strings["name"].strip():
        problems.append("plugin.name is empty")
    if not strings["language"].strip():
        problems.append("plugin.language is empty")
    templates: list[TemplateEntry] = []
    for index, entry in enumerate(entries):
        parsed = _template_entry(manifest_path, index, entry, problems)
        if parsed is not None:
            templates.append(parsed)
    plugin = Plugin(
        name=strings["name"],
        version=strings["version"],
        description=strings["description"],
        language=strings["language"],
        framework=framework or None,
        manifest_path=manifest_path,
        templates=tuple(templates),
    )
    return ManifestReading(plugin, problems)


def _template_entry(
    manifest_path: Path, index: int, entry: dict[str, Any], problems: list[str]
) -> TemplateEntry | None:
    fields: dict[str, str] = {}
    for key in ("name", "path", "description"):
        value = entry.get(key)
        if not isinstance(value, str):
            problems.append(f"templates[{index}].{key} is missing or not a string")
            return None
        fields[key] = value
    name, relative = fields["name"], fields["path"]
    directory = manifest_path.parent / relative
    if not directory.exists():
        problems.append(f"template '{name}' path '{relative}' does not exist")
        return None
    if not directory.is_dir():
        problems.append(f"'{directory}' is not a directory")
        return None
    return TemplateEntry(name=name, description=fields["description"], directory=directory)

"""``plugin validate``: every problem with a plugin directory, not just the first."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tasker_ctl.errors import TaskerCtlError
from tasker_ctl.scaffold.manifest import MANIFEST_FILENAME, Plugin, read_manifest
from tasker_ctl.scaffold.metadata import load_template_metadata


@dataclass(frozen=True)
class PluginValidation:
    """The plugin when its manifest loaded, and the problems found (empty when valid)."""

    plugin: Plugin | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the manifest loaded and nothing is wrong."""
        return self.plugin is not None and not self.problems


def validate_plugin_dir(directory: Path) -> PluginValidation:
    """Check the manifest in ``directory`` and the ``template.toml`` of every template."""
    if not directory.is_dir():
        return PluginValidation(None, [f"'{directory}' is not a directory"])
    reading = read_manifest(directory / MANIFEST_FILENAME)
    problems = list(reading.problems)
    if reading.plugin is None:
        return PluginValidation(None, problems)
    names: set[str] = set()
    for template in reading.plugin.templates:
        if template.name in names:
            problems.append(f"template '{template.name}' is declared twice")
        names.add(template.name)
        try:
            load_template_metadata(template.directory, reading.plugin.root)
        except TaskerCtlError as exc:
            problems.append(f"template '{template.name}': {exc.message}")
    return PluginValidation(reading.plugin, problems)

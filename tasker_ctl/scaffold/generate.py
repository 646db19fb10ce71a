"""Generating files from a scaffold template: check parameters, render, check paths, write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tasker_ctl.scaffold.catalog import TemplateChoice
from tasker_ctl.scaffold.metadata import load_template_metadata
from tasker_ctl.scaffold.params import resolve_params
from tasker_ctl.scaffold.render import render_outputs
from tasker_ctl.scaffold.writer import PlannedFile, WriteAction, plan_writes, write_planned


@dataclass(frozen=True)
class Generation:
    """What a generation did (or, for a dry run, would do), file by file."""

    template: str
    plugin: str
    files: list[PlannedFile]
    dry_run: bool

    @property
    def written(self) -> list[PlannedFile]:
        """The files created or overwritten (kept ones excluded)."""
        return [item for item in self.files if item.action is not WriteAction.KEEP]


def generate(
    choice: TemplateChoice,
    params: Mapping[str, str],
    output_dir: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> Generation:
    """Render ``choice`` with ``params`` into ``output_dir``.

    Every check (parameters, rendering, destinations, existing files) runs before the first
    write; with ``dry_run`` nothing is written at all.
    """
    metadata = load_template_metadata(choice.template.directory, choice.plugin.root)
    context = resolve_params(metadata, params)
    rendered = render_outputs(metadata, choice.plugin.root, context)
    planned = plan_writes(output_dir, rendered, force=force)
    if not dry_run:
        write_planned(planned)
    return Generation(choice.template.name, choice.plugin.name, planned, dry_run)

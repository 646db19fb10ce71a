"""``template schema``: the JSON Schema of the task-template format, for editors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tasker_ctl.cli import console


def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of task templates (derived from the model that validates them).

    Example: tasker-ctl template schema -o .tasker/template.schema.json
    """
    from tasker_ctl.template.editor_schema import template_schema_text

    text = template_schema_text()
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    console.success(f"Wrote {output}")

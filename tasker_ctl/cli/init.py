"""``init``: create ``.config/tasker.toml`` and a project layout with an example workflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tasker_ctl.cli import console


def init(
    directory: Annotated[
        Path, typer.Argument(help="Project directory (created if missing).", file_okay=False)
    ] = Path(),
    no_example: Annotated[
        bool,
        typer.Option("--no-example", help="Only the project file and an empty layout."),
    ] = False,
    no_contrib: Annotated[
        bool,
        typer.Option("--no-contrib", help="Leave out the tasker-contrib remote (as upstream)."),
    ] = False,
) -> None:
    """Create .config/tasker.toml, templates/ and a handlers package, with an example that runs.

    Refuses to overwrite: when any file it would write exists, nothing is written.

    Example: tasker-ctl init my-workflows
    """
    from tasker_ctl.scaffold.project import init_project

    result = init_project(directory, example=not no_example, contrib=not no_contrib)
    for message in result.warnings:
        console.warning(message)
    for path in result.created:
        shown = path.relative_to(directory) if path.is_relative_to(directory) else path
        suffix = "/" if path.is_dir() else ""
        console.success(f"Created {shown}{suffix}")
    print()
    print("Next:")
    for command in result.next_commands:
        print(f"  {command}")

"""Options and helpers shared by several commands: one definition each."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class OutputFormat(StrEnum):
    """Output for people (text) or for scripts (json)."""

    TEXT = "text"
    JSON = "json"


DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Store file (default: $TASKER_CTL_DB, db in .tasker-ctl.toml, .tasker/tasker.db).",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="text for people, json for scripts.")
]
TaskArgument = Annotated[str, typer.Argument(help="Task UUID, or a unique prefix of it.")]
HandlersOption = Annotated[
    list[str] | None,
    typer.Option(
        "--handlers",
        help="Module or package to import handlers from (repeatable; packages are scanned).",
    ),
]
ConcurrencyOption = Annotated[
    int, typer.Option("--concurrency", "-j", min=1, help="Steps run at the same time.")
]


def db_path(flag: Path | None) -> Path:
    """The store this command uses: flag, environment, project file, default."""
    from tasker_ctl.config import load_project_config, resolve_db_path

    return resolve_db_path(flag, load_project_config())


def print_json(data: Any, *, indent: int | None = 2) -> None:
    """``data`` as JSON on stdout (non-ASCII kept readable)."""
    print(json.dumps(data, indent=indent, ensure_ascii=False), flush=True)

"""Options and helpers shared by several commands: one definition each."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tasker_ctl.cli.completion import complete_task

if TYPE_CHECKING:
    from tasker_ctl.config import ProjectConfig


class OutputFormat(StrEnum):
    """Output for people (text) or for scripts (json)."""

    TEXT = "text"
    JSON = "json"


class Durability(StrEnum):
    """How far each commit to the store goes (the store's ``PRAGMA synchronous``)."""

    NORMAL = "normal"
    FULL = "full"


DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Store file (default: $TASKER_CTL_DB, db in the config file, .tasker/tasker.db).",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="text for people, json for scripts.")
]
TaskArgument = Annotated[
    str, typer.Argument(help="Task UUID, or a unique prefix of it.", autocompletion=complete_task)
]
HandlersOption = Annotated[
    list[str] | None,
    typer.Option(
        "--handlers",
        help="Module or package to import handlers from (repeatable; packages are scanned); "
        "replaces handler-packages of the config file.",
    ),
]


class Workers(StrEnum):
    """Where handlers run: threads of the run's process, or worker processes."""

    THREAD = "thread"
    PROCESS = "process"


WorkersOption = Annotated[
    Workers | None,
    typer.Option(
        "--workers",
        help="thread, or process: worker processes for CPU-bound handlers (handlers, inputs "
        "and results must pickle). Default: the config's `workers`, else thread.",
        show_default=False,
    ),
]
ConcurrencyOption = Annotated[
    int, typer.Option("--concurrency", "-j", min=1, help="Steps run at the same time.")
]
DurabilityOption = Annotated[
    Durability | None,
    typer.Option(
        "--durability",
        help="normal: a crash of tasker-ctl loses nothing committed, a power loss may take the "
        "last commits; full: every commit is on disk (fsync) before the run goes on "
        "(default: the config file's `durability`, else normal).",
    ),
]


_warned: set[str] = set()


def project_config() -> ProjectConfig:
    """The config file's settings; its warnings (near-miss keys) go to stderr once a process."""
    from tasker_ctl.cli import console
    from tasker_ctl.config import load_project_config

    config = load_project_config()
    if config.file is not None and str(config.file) not in _warned:
        _warned.add(str(config.file))
        console.note(f"config file: {config.file}")
    for message in config.warnings:
        if message not in _warned:
            _warned.add(message)
            console.warning(message)
    return config


def db_path(flag: Path | None, config: ProjectConfig | None = None) -> Path:
    """The store this command uses: flag, environment, config file, default. A command that
    has read the config file already passes it (``config``), so that it is not read again."""
    from tasker_ctl.config import resolve_db_path

    return resolve_db_path(flag, project_config() if config is None else config)


def print_json(data: Any, *, indent: int | None = 2) -> None:
    """``data`` as JSON on stdout (non-ASCII kept readable)."""
    print(json.dumps(data, indent=indent, ensure_ascii=False), flush=True)


def read_json_option(raw: str, *, option: str, max_bytes: int) -> Any:
    """A ``JSON | @FILE | -`` option's value. Given ``-`` on a terminal, it first says on stderr
    what it waits for, so that a command waiting for input does not look hung."""
    from tasker_ctl.tasks.inputs import read_json_argument

    if raw == "-" and sys.stdin.isatty():
        print(
            f"reading {option} from standard input: type or paste JSON, then press Ctrl-D",
            file=sys.stderr,
            flush=True,
        )
    return read_json_argument(raw, option=option, max_bytes=max_bytes)

"""Project settings from ``.tasker-ctl.toml``, environment variables and command-line flags.

Precedence, highest first: a command-line flag, an environment variable, the project file, the
built-in default. The project file is the nearest ``.tasker-ctl.toml`` in the current directory or
one of its parents; relative paths inside it are relative to the file. Keys may sit at the top
level or under a ``[cli]`` table (the layout of Tasker's unified config file).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasker_ctl.errors import UsageError, did_you_mean

CONFIG_FILENAME = ".tasker-ctl.toml"
DB_ENV = "TASKER_CTL_DB"
TEMPLATE_PATH_ENV = "TASKER_TEMPLATE_PATH"
DEFAULT_DB = Path(".tasker") / "tasker.db"
DEFAULT_TEMPLATE_DIRS = (Path("templates"), Path("config") / "tasker" / "templates")

_PATH_LIST_KEYS = ("template-paths", "plugin-paths")
_STRING_LIST_KEYS = ("handler-packages",)
_PATH_KEYS = ("db", "default-output-dir")
_STRING_KEYS = ("default-language", "environment")
KNOWN_KEYS = frozenset(_PATH_LIST_KEYS + _STRING_LIST_KEYS + _PATH_KEYS + _STRING_KEYS)


@dataclass(frozen=True)
class ProjectConfig:
    """Settings read from the project file; empty when there is none."""

    file: Path | None = None
    db: Path | None = None
    template_paths: tuple[Path, ...] = ()
    plugin_paths: tuple[Path, ...] = ()
    handler_packages: tuple[str, ...] = ()
    default_language: str | None = None
    default_output_dir: Path | None = None
    environment: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def find_config_file(start: Path | None = None) -> Path | None:
    """The nearest ``.tasker-ctl.toml`` at or above ``start`` (default: the current directory)."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    return None


def load_project_config(start: Path | None = None) -> ProjectConfig:
    """Read the project file, checking every key and type; raise ``UsageError`` on a bad one."""
    path = find_config_file(start)
    if path is None:
        return ProjectConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot read the config file: {exc}",
            hint="fix the TOML syntax or remove the file",
        ) from exc
    table = raw.get("cli", raw) if isinstance(raw.get("cli"), dict) else raw
    base = path.parent
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "cli":
            continue
        if key not in KNOWN_KEYS:
            raise UsageError(
                f"{path}: unknown key '{key}'{did_you_mean(key, KNOWN_KEYS)}",
                hint="known keys: " + ", ".join(sorted(KNOWN_KEYS)),
            )
        values[key] = _coerce(path, key, value, base)
    return ProjectConfig(
        file=path,
        db=values.get("db"),
        template_paths=values.get("template-paths", ()),
        plugin_paths=values.get("plugin-paths", ()),
        handler_packages=values.get("handler-packages", ()),
        default_language=values.get("default-language"),
        default_output_dir=values.get("default-output-dir"),
        environment=values.get("environment"),
    )


def _coerce(path: Path, key: str, value: Any, base: Path) -> Any:
    def wrong(expected: str) -> UsageError:
        return UsageError(f"{path}: '{key}' must be {expected}, not {type(value).__name__}")

    if key in _PATH_LIST_KEYS or key in _STRING_LIST_KEYS:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise wrong("a list of strings")
        if key in _STRING_LIST_KEYS:
            return tuple(value)
        return tuple(_resolve(base, item) for item in value)
    if not isinstance(value, str):
        raise wrong("a string")
    return _resolve(base, value) if key in _PATH_KEYS else value


def _resolve(base: Path, raw: str) -> Path:
    candidate = Path(raw).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def resolve_db_path(flag: Path | None, config: ProjectConfig) -> Path:
    """``--db``, else ``$TASKER_CTL_DB``, else the project file's ``db``, else the default."""
    if flag is not None:
        return flag
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env)
    if config.db is not None:
        return config.db
    return DEFAULT_DB


def template_search_path(flags: Sequence[Path], config: ProjectConfig) -> list[Path]:
    """Directories searched for task templates, in order (duplicates removed)."""
    env = os.environ.get(TEMPLATE_PATH_ENV, "")
    ordered = [
        *flags,
        *(Path(item) for item in env.split(os.pathsep) if item),
        *config.template_paths,
        *DEFAULT_TEMPLATE_DIRS,
    ]
    seen: set[Path] = set()
    unique: list[Path] = []
    for directory in ordered:
        key = directory.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(directory)
    return unique


HEARTBEAT_ENV = "TASKER_CTL_HEARTBEAT_SECONDS"


def heartbeat_seconds(default: float) -> float:
    """A run's lease heartbeat interval: ``TASKER_CTL_HEARTBEAT_SECONDS``, else ``default``."""
    raw = os.environ.get(HEARTBEAT_ENV)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise UsageError(
            f"{HEARTBEAT_ENV}={raw!r} is not a number of seconds between 0 and 3600",
            hint=f"unset {HEARTBEAT_ENV} to use the default of {default:g} s",
        )
    return value

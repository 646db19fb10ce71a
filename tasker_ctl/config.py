"""Project settings from Tasker's config files, environment variables and command-line flags.

Precedence, highest first: a command-line flag, an environment variable, the config file, the
built-in default. The config file is found as upstream ``tasker-ctl`` finds it, in this order,
the first file found being the only one read:

1. ``.config/tasker.toml`` (Tasker's unified file: settings under ``[cli]``, server profiles
   under ``[profile.*]``);
2. ``.tasker-ctl.toml`` (the standalone file: keys at the top level or under ``[cli]``);

each looked for in the current directory, then in each parent (the nearest directory wins, and
within one directory the unified file wins); then
3. ``~/.config/tasker-ctl.toml``.

``-c/--config FILE`` names the file instead. Relative paths in a file that sits in a ``.config``
directory are relative to the directory holding ``.config/`` (the project); in any other file,
relative to the file's directory. Keys tasker-ctl does not use are ignored, as upstream ignores
them; one that is a near miss of a key tasker-ctl uses earns a warning.

``find_config`` (discovery and TOML parsing, nothing else) is shared with readers of the other
tables of these files, such as a server-profile loader.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasker_ctl.errors import UsageError, closest

UNIFIED_CONFIG = Path(".config") / "tasker.toml"
CONFIG_FILENAME = ".tasker-ctl.toml"
GLOBAL_CONFIG = Path(".config") / "tasker-ctl.toml"  # under the home directory
DB_ENV = "TASKER_CTL_DB"
MAX_INPUT_ENV = "TASKER_CTL_MAX_INPUT_MIB"
DEFAULT_MAX_INPUT_MIB = 8
MEBIBYTE = 1024 * 1024
TEMPLATE_PATH_ENV = "TASKER_TEMPLATE_PATH"
DEFAULT_DB = Path(".tasker") / "tasker.db"
DEFAULT_TEMPLATE_DIRS = (Path("templates"), Path("config") / "tasker" / "templates")

_PATH_LIST_KEYS = ("template-paths", "plugin-paths")
_STRING_LIST_KEYS = ("handler-packages",)
_PATH_KEYS = ("db", "default-output-dir")
_STRING_KEYS = ("default-language", "environment")
_COUNT_KEYS = ("max-input-mib",)
DURABILITY_LEVELS = ("normal", "full")
WORKER_CHOICES = ("thread", "process")
_CHOICE_KEYS = {"durability": DURABILITY_LEVELS, "workers": WORKER_CHOICES}
KNOWN_KEYS = frozenset(
    _PATH_LIST_KEYS + _STRING_LIST_KEYS + _PATH_KEYS + _STRING_KEYS + _COUNT_KEYS
) | frozenset(_CHOICE_KEYS)
# Keys upstream tasker-ctl reads that tasker-ctl has no use for (remotes are fetched by upstream's
# `remote update`): accepted without a word.
UPSTREAM_ONLY_KEYS = frozenset({"remotes", "cache-max-age-hours"})


@dataclass(frozen=True)
class ConfigSearch:
    """Where to look for a config file: names tried in each directory from the start directory
    up to the root (in order), then paths under the home directory."""

    per_directory: tuple[Path, ...]
    in_home: tuple[Path, ...] = ()


CLI_CONFIG_SEARCH = ConfigSearch(
    per_directory=(UNIFIED_CONFIG, Path(CONFIG_FILENAME)), in_home=(GLOBAL_CONFIG,)
)
"""tasker-ctl's own settings. A server-profile reader passes its own ``ConfigSearch`` (upstream
looks for profiles in ``.config/tasker.toml``, ``.config/tasker-client.toml``, … ) to
``find_config`` and reads the ``profile`` table of the document it returns."""


@dataclass(frozen=True)
class ConfigFile:
    """A config file found and parsed: its path, the directory its relative paths are relative
    to, and the whole TOML document (every table, including ones this reader ignores)."""

    path: Path
    base: Path
    data: dict[str, Any]

    @property
    def unified(self) -> bool:
        """True for Tasker's unified ``.config/tasker.toml`` (settings only under ``[cli]``)."""
        return self.path.name == UNIFIED_CONFIG.name and self.path.parent.name == ".config"


def find_config(
    search: ConfigSearch = CLI_CONFIG_SEARCH,
    *,
    start: Path | None = None,
    explicit: Path | None = None,
) -> ConfigFile | None:
    """The first config file of ``search`` at or above ``start`` (or ``explicit``), parsed.

    Raises ``UsageError`` when the file cannot be read or is not valid TOML, or when
    ``explicit`` does not exist.
    """
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(
                f"config file not found: {explicit}", hint="check the path given to -c/--config"
            )
        return _parse(explicit)
    path = _locate(search, (start or Path.cwd()).resolve())
    return None if path is None else _parse(path)


def _locate(search: ConfigSearch, here: Path) -> Path | None:
    for directory in (here, *here.parents):
        for name in search.per_directory:
            if (directory / name).is_file():
                return directory / name
    home = os.environ.get("HOME")
    if home:
        for name in search.in_home:
            if (Path(home) / name).is_file():
                return Path(home) / name
    return None


def _parse(path: Path) -> ConfigFile:
    import tomllib  # only when a file is there to read

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot read the config file: {exc}",
            hint="fix the TOML syntax or remove the file",
        ) from exc
    absolute = path.resolve()
    base = absolute.parent.parent if absolute.parent.name == ".config" else absolute.parent
    return ConfigFile(path=path, base=base, data=data)


@dataclass(frozen=True)
class ProjectConfig:
    """Settings read from the config file; empty when there is none.

    ``warnings`` are for the user (near-miss keys); ``profiles`` names the ``[profile.*]``
    tables of a unified file, which tasker-ctl reads no further.
    """

    file: Path | None = None
    db: Path | None = None
    template_paths: tuple[Path, ...] = ()
    plugin_paths: tuple[Path, ...] = ()
    handler_packages: tuple[str, ...] = ()
    default_language: str | None = None
    default_output_dir: Path | None = None
    environment: str | None = None
    max_input_mib: int | None = None
    durability: str | None = None
    workers: str | None = None
    remotes: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


_explicit_config: Path | None = None


def use_config_file(path: Path | None) -> None:
    """Make ``load_project_config`` read ``path`` instead of searching (``-c/--config``);
    ``None`` restores the search. Set by the command line once per invocation."""
    global _explicit_config  # noqa: PLW0603 - one process-wide setting from the root callback
    _explicit_config = path


def load_project_config(start: Path | None = None) -> ProjectConfig:
    """Read the config file, checking the type of every key tasker-ctl uses.

    Raises ``UsageError`` on a file that is not TOML or a key of the wrong type.
    """
    found = find_config(start=start, explicit=_explicit_config)
    if found is None:
        return ProjectConfig()
    raw = found.data
    warnings: list[str] = []
    cli = raw.get("cli")
    if found.unified:
        table = cli if isinstance(cli, dict) else {}
        misplaced = sorted(key for key in raw if key in KNOWN_KEYS)
        warnings += [
            f"{found.path}: '{key}' at the top level is ignored; move it under [cli]"
            for key in misplaced
        ]
    else:
        table = cli if isinstance(cli, dict) else raw
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in KNOWN_KEYS:
            values[key] = _coerce(found.path, key, value, found.base)
        elif key not in UPSTREAM_ONLY_KEYS and key != "cli":
            near = closest(key, KNOWN_KEYS)
            if near is not None:
                warnings.append(
                    f"{found.path}: unknown key '{key}' ignored (did you mean '{near}'?)"
                )
    profiles = raw.get("profile")
    return ProjectConfig(
        file=found.path,
        db=values.get("db"),
        template_paths=values.get("template-paths", ()),
        plugin_paths=values.get("plugin-paths", ()),
        handler_packages=values.get("handler-packages", ()),
        default_language=values.get("default-language"),
        default_output_dir=values.get("default-output-dir"),
        environment=values.get("environment"),
        max_input_mib=values.get("max-input-mib"),
        durability=values.get("durability"),
        workers=values.get("workers"),
        remotes=_remote_names(table.get("remotes")),
        profiles=tuple(profiles) if isinstance(profiles, dict) else (),
        warnings=tuple(warnings),
    )


def _remote_names(remotes: Any) -> tuple[str, ...]:
    if not isinstance(remotes, list):
        return ()
    return tuple(str(item.get("name", "?")) for item in remotes if isinstance(item, dict))


def _coerce(path: Path, key: str, value: Any, base: Path) -> Any:
    def wrong(expected: str) -> UsageError:
        return UsageError(f"{path}: '{key}' must be {expected}, not {type(value).__name__}")

    if key in _CHOICE_KEYS:
        choices = _CHOICE_KEYS[key]
        if value not in choices:
            quoted = " or ".join(f'"{choice}"' for choice in choices)
            raise UsageError(
                f"{path}: '{key}' must be {quoted}, not {value!r}",
                hint=f'e.g. {key} = "{choices[-1]}"',
            )
        return value
    if key in _COUNT_KEYS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise wrong("a whole number of at least 1")
        return value
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
    """``--db``, else ``$TASKER_CTL_DB``, else the config file's ``db``, else the default."""
    return resolve_db_setting(flag, config)[0]


def resolve_db_setting(flag: Path | None, config: ProjectConfig) -> tuple[Path, str]:
    """The store path and where it came from (``--db``, the variable, the file, default)."""
    if flag is not None:
        return flag, "--db"
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env), f"${DB_ENV}"
    if config.db is not None:
        return config.db, str(config.file)
    return DEFAULT_DB, "default"


def resolve_durability(flag: str | None, config: ProjectConfig) -> str:
    """``--durability``, else the config file's ``durability``, else ``normal``."""
    return flag or config.durability or DURABILITY_LEVELS[0]


def max_input_bytes(config: ProjectConfig) -> int:
    """The size limit of JSON input: ``$TASKER_CTL_MAX_INPUT_MIB``, else ``max-input-mib``."""
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise UsageError(
                f"{MAX_INPUT_ENV}={raw!r} is not a whole number of MiB",
                hint=f"e.g. {MAX_INPUT_ENV}=64, or unset it for the default",
            )
        return int(raw) * MEBIBYTE
    return (config.max_input_mib or DEFAULT_MAX_INPUT_MIB) * MEBIBYTE


def handler_modules(flags: Sequence[str], config: ProjectConfig) -> list[str]:
    """The handler packages to import: ``--handlers`` when given, in place of the config file's
    ``handler-packages`` (two packages registering the same names would clash)."""
    return list(flags) if flags else list(config.handler_packages)


def worker_kind(flag: str | None, config: ProjectConfig) -> str:
    """Where handlers run: ``--workers``, else the config file's ``workers``, else threads."""
    return flag or config.workers or WORKER_CHOICES[0]


def template_search_path(flags: Sequence[Path], config: ProjectConfig) -> list[Path]:
    """Directories searched for task templates, in order (duplicates removed)."""
    return [directory for directory, _source in template_search_sources(flags, config)]


def template_search_sources(flags: Sequence[Path], config: ProjectConfig) -> list[tuple[Path, str]]:
    """Template directories in search order, each with where it came from.

    The first of ``--templates``, ``TASKER_TEMPLATE_PATH`` and ``template-paths`` that is set
    replaces the others (flags win over the environment, which wins over the file); the
    default directories are searched after it.
    """
    env = [Path(item) for item in os.environ.get(TEMPLATE_PATH_ENV, "").split(os.pathsep) if item]
    if flags:
        chosen = [(directory, "--templates") for directory in flags]
    elif env:
        chosen = [(directory, f"${TEMPLATE_PATH_ENV}") for directory in env]
    else:
        chosen = [(directory, str(config.file)) for directory in config.template_paths]
    ordered = [*chosen, *((directory, "default") for directory in DEFAULT_TEMPLATE_DIRS)]
    seen: set[Path] = set()
    unique: list[tuple[Path, str]] = []
    for directory, source in ordered:
        key = directory.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((directory, source))
    return unique


@dataclass(frozen=True)
class Setting:
    """One resolved setting for ``config show``: its key, its value(s) and where each came from
    (a flag, ``$VARIABLE``, the config file's path, ``default`` or ``bundled``)."""

    key: str
    values: tuple[tuple[str, str], ...]
    note: str | None = None


def resolved_settings(config: ProjectConfig, bundled_plugins: Path) -> list[Setting]:
    """Every setting tasker-ctl uses, as the commands resolve it without flags."""
    source = str(config.file)

    def one(key: str, value: object, default: str | None = None) -> Setting:
        if value is not None:
            return Setting(key, ((str(value), source),))
        return Setting(key, ((default, "default"),) if default is not None else ())

    db, db_source = resolve_db_setting(None, config)
    settings = [
        Setting("db", ((str(db), db_source),)),
        Setting(
            "template-paths",
            tuple((str(path), origin) for path, origin in template_search_sources([], config)),
        ),
        Setting(
            "plugin-paths",
            (
                *((str(path), source) for path in config.plugin_paths),
                (str(bundled_plugins), "bundled"),
            ),
        ),
        Setting("handler-packages", tuple((name, source) for name in config.handler_packages)),
        one("default-language", config.default_language, "python"),
        one("default-output-dir", config.default_output_dir),
        one("environment", config.environment),
        one("durability", config.durability, DURABILITY_LEVELS[0]),
        one("workers", config.workers, WORKER_CHOICES[0]),
    ]
    if config.remotes:
        settings.append(
            Setting(
                "remotes",
                tuple((name, source) for name in config.remotes),
                note="read by upstream tasker-ctl's `remote` commands; tasker-ctl ignores them",
            )
        )
    if config.profiles:
        settings.append(
            Setting(
                "profiles",
                tuple((name, source) for name in config.profiles),
                note="Tasker server profiles: choose one with --profile or TASKER_CLIENT_PROFILE",
            )
        )
    return settings


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

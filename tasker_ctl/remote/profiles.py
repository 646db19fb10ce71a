"""Connection profiles, read as Tasker's own client reads them (tasker-core
``docs/guides/client-profiles.md`` and ``tasker-client/src/config.rs``).

Files, the first found wins: ``.config/tasker.toml``, ``.config/tasker-client.toml``,
``./tasker-client.toml`` (each looked for in the current directory, then in its parents, like
``.tasker-ctl.toml``), then ``~/.config/tasker/client.toml`` and ``~/.tasker/client.toml``.

A profile resolves in layers: the built-in defaults, ``[profile.default]``, ``[profile.<name>]``,
then environment variables (``TASKER_ORCHESTRATION_URL``, ``TASKER_ORCHESTRATION_TIMEOUT_MS``,
``TASKER_CLIENT_TRANSPORT``/``TASKER_TEST_TRANSPORT``, and for credentials
``TASKER_ORCHESTRATION_AUTH_TOKEN`` > ``TASKER_AUTH_TOKEN`` > ``TASKER_API_KEY`` with
``TASKER_API_KEY_HEADER``). Only the orchestration endpoint matters to tasker-ctl.

A credential is never part of a ``repr``, a message or JSON output: :class:`Auth` masks it.
Standard library only, so listing profiles costs nothing.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tasker_ctl.errors import NotFoundError, UsageError, did_you_mean
from tasker_ctl.remote import PROFILE_ENV, selected_profile_name

__all__ = [
    "PROFILE_ENV",
    "Auth",
    "Profile",
    "display_url",
    "load_profile",
    "selected_profile_name",
]

DEFAULT_PROFILE = "default"
DEFAULT_BASE_URL = "http://localhost:8080"
DEFAULT_TIMEOUT_MS = 30000
DEFAULT_MAX_RETRIES = 3
DEFAULT_API_KEY_HEADER = "X-API-Key"
PROJECT_FILES = (
    Path(".config") / "tasker.toml",
    Path(".config") / "tasker-client.toml",
    Path("tasker-client.toml"),
)
_TRANSPORTS = {"rest": "rest", "http": "rest", "grpc": "grpc"}


def display_url(url: str) -> str:
    """``url`` without any user:password part, for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="****@" + parts.netloc.rsplit("@", 1)[1]))


@dataclass(frozen=True)
class Auth:
    """How requests authenticate: an API key in a header, or a bearer token.

    ``secret`` is left out of ``repr`` and of :meth:`describe`; only :meth:`headers` uses it.
    """

    kind: str  # "ApiKey" or "BearerToken", as upstream names the methods
    secret: str = field(repr=False)
    header_name: str = DEFAULT_API_KEY_HEADER
    source: str = "profile file"

    def headers(self) -> dict[str, str]:
        """The request header that carries the credential."""
        if self.kind == "BearerToken":
            return {"Authorization": f"Bearer {self.secret}"}
        return {self.header_name: self.secret}

    def describe(self) -> str:
        """``ApiKey in X-API-Key (from TASKER_API_KEY)``: what is configured, never the value."""
        where = "Authorization" if self.kind == "BearerToken" else self.header_name
        return f"{self.kind} in {where} (from {self.source})"

    def to_json(self) -> dict[str, str]:
        """The masked description for ``profile show --format json``."""
        return {
            "type": self.kind,
            "header": "Authorization" if self.kind == "BearerToken" else self.header_name,
            "source": self.source,
            "value": "****",
        }


@dataclass(frozen=True)
class Profile:
    """A resolved profile: what tasker-ctl needs to talk to the orchestration server."""

    name: str
    file: Path | None
    base_url: str = DEFAULT_BASE_URL
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    max_retries: int = DEFAULT_MAX_RETRIES
    auth: Auth | None = None
    transport: str = "rest"
    description: str | None = None
    namespaces: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Profile(name={self.name!r}, file={self.file!r}, "
            f"base_url={display_url(self.base_url)!r}, timeout_ms={self.timeout_ms}, "
            f"max_retries={self.max_retries}, auth={self.auth!r}, transport={self.transport!r})"
        )

    @property
    def where(self) -> str:
        """Where the profile comes from, for messages."""
        return str(self.file) if self.file is not None else "built-in defaults"

    def to_json(self) -> dict[str, Any]:
        """``profile show --format json`` (credentials masked)."""
        return {
            "name": self.name,
            "file": None if self.file is None else str(self.file),
            "description": self.description,
            "transport": self.transport,
            "orchestration": {
                "base_url": display_url(self.base_url),
                "timeout_ms": self.timeout_ms,
                "max_retries": self.max_retries,
                "auth": None if self.auth is None else self.auth.to_json(),
            },
            "namespaces": list(self.namespaces),
        }


@dataclass(frozen=True)
class ProfileFile:
    """A profile file and its raw ``[profile.*]`` tables."""

    path: Path
    tables: Mapping[str, Mapping[str, Any]]

    @property
    def names(self) -> list[str]:
        """The profiles it defines, ``default`` first."""
        return sorted(self.tables, key=lambda name: (name != DEFAULT_PROFILE, name))


def user_files(home: Path | None = None, environ: Mapping[str, str] | None = None) -> list[Path]:
    """``~/.config/tasker/client.toml`` (``$XDG_CONFIG_HOME`` if set), ``~/.tasker/client.toml``."""
    env = os.environ if environ is None else environ
    home = home or Path.home()
    config_dir = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return [config_dir / "tasker" / "client.toml", home / ".tasker" / "client.toml"]


def find_profile_file(
    start: Path | None = None, *, home: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The profile file in use: the nearest project file, else a user file, else None."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        for relative in PROJECT_FILES:
            candidate = directory / relative
            if candidate.is_file():
                return candidate
    return next((path for path in user_files(home, environ) if path.is_file()), None)


def read_profile_file(path: Path) -> ProfileFile:
    """The ``[profile.*]`` tables of ``path``; ``UsageError`` when it cannot be read."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot read the profile file: {exc}",
            hint="fix the TOML syntax (profiles are [profile.NAME] tables)",
        ) from exc
    tables = raw.get("profile", {})
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise UsageError(
            f"{path}: 'profile' must hold tables such as [profile.default]",
            hint="see `tasker-ctl profile list` and the README section on Tasker servers",
        )
    return ProfileFile(path=path, tables=tables)


def load_profile(
    name: str,
    *,
    start: Path | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Profile:
    """Resolve profile ``name``: defaults, ``[profile.default]``, ``[profile.NAME]``, environment.

    As upstream: ``default`` needs no file (the built-in defaults apply); any other name must be
    defined in the profile file found.
    """
    env = os.environ if environ is None else environ
    path = find_profile_file(start, home=home, environ=env)
    profile_file = None if path is None else read_profile_file(path)
    layers: list[Mapping[str, Any]] = []
    if profile_file is not None and DEFAULT_PROFILE in profile_file.tables:
        layers.append(profile_file.tables[DEFAULT_PROFILE])
    if name != DEFAULT_PROFILE:
        if profile_file is None:
            raise NotFoundError(
                f"no profile '{name}': no profile file found",
                hint=f"define [profile.{name}] with orchestration.base_url in .config/tasker.toml",
            )
        if name not in profile_file.tables:
            known = profile_file.names
            raise NotFoundError(
                f"{profile_file.path}: no profile '{name}'{did_you_mean(name, known)}",
                hint="profiles defined there: " + (", ".join(known) or "none"),
            )
        layers.append(profile_file.tables[name])
    where = path or Path("(built-in defaults)")
    settings: dict[str, Any] = {}
    for layer in layers:
        settings.update(_profile_settings(where, name, layer))
    settings.update(_environment_settings(env, settings.get("transport", "rest")))
    return Profile(name=name, file=path, **settings)


def list_profiles(
    *, start: Path | None = None, home: Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path | None, list[Profile]]:
    """The profile file found and every profile it defines, resolved (``default`` alone if none)."""
    path = find_profile_file(start, home=home, environ=environ)
    names = [DEFAULT_PROFILE] if path is None else read_profile_file(path).names
    return path, [load_profile(n, start=start, home=home, environ=environ) for n in names]


def _profile_settings(path: Path, name: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """The settings one ``[profile.*]`` table gives (only the keys it sets)."""
    where = f"{path}: [profile.{name}]"
    settings: dict[str, Any] = {}
    if "transport" in table:
        settings["transport"] = _transport(where, table["transport"])
    if "description" in table:
        settings["description"] = _typed(where, "description", table["description"], str)
    if "namespaces" in table:
        namespaces = table["namespaces"]
        if not isinstance(namespaces, list) or not all(isinstance(n, str) for n in namespaces):
            raise UsageError(f"{where}: 'namespaces' must be a list of strings")
        settings["namespaces"] = tuple(namespaces)
    orchestration = table.get("orchestration")
    if orchestration is None:
        return settings
    if not isinstance(orchestration, dict):
        raise UsageError(f"{where}: 'orchestration' must be a table")
    if "base_url" in orchestration:
        settings["base_url"] = _base_url(where, orchestration["base_url"])
    if "timeout_ms" in orchestration:
        settings["timeout_ms"] = _positive(where, "timeout_ms", orchestration["timeout_ms"])
    if "max_retries" in orchestration:
        settings["max_retries"] = _count(where, "max_retries", orchestration["max_retries"])
    if "auth" in orchestration:
        settings["auth"] = _auth(where, orchestration["auth"])
    return settings


def _environment_settings(env: Mapping[str, str], transport: str) -> dict[str, Any]:
    """The overrides upstream reads from the environment (the orchestration endpoint's)."""
    settings: dict[str, Any] = {}
    chosen = env.get("TASKER_CLIENT_TRANSPORT") or env.get("TASKER_TEST_TRANSPORT")
    if chosen and chosen.lower() in _TRANSPORTS:
        transport = settings["transport"] = _TRANSPORTS[chosen.lower()]
    if transport == "rest" and env.get("TASKER_ORCHESTRATION_URL"):
        settings["base_url"] = _base_url(
            "TASKER_ORCHESTRATION_URL", env["TASKER_ORCHESTRATION_URL"]
        )
    timeout = env.get("TASKER_ORCHESTRATION_TIMEOUT_MS", "")
    if timeout.isdigit() and int(timeout) > 0:
        settings["timeout_ms"] = int(timeout)
    for variable in ("TASKER_ORCHESTRATION_AUTH_TOKEN", "TASKER_AUTH_TOKEN"):
        if env.get(variable):
            settings["auth"] = Auth("BearerToken", env[variable], "Authorization", variable)
            return settings
    if env.get("TASKER_API_KEY"):
        header = env.get("TASKER_API_KEY_HEADER") or DEFAULT_API_KEY_HEADER
        settings["auth"] = Auth("ApiKey", env["TASKER_API_KEY"], header, "TASKER_API_KEY")
    return settings


def _auth(where: str, raw: Any) -> Auth:
    """``method = { type = "ApiKey", value = { key, header_name } }`` or
    ``method = { type = "BearerToken", value = "TOKEN" }``."""
    example = 'method = { type = "ApiKey", value = { key = "…", header_name = "X-API-Key" } }'
    method = raw.get("method") if isinstance(raw, dict) else None
    kind = method.get("type") if isinstance(method, dict) else None
    value = method.get("value") if isinstance(method, dict) else None
    if kind == "BearerToken" and isinstance(value, str) and value:
        return Auth("BearerToken", value, "Authorization")
    if kind == "ApiKey" and isinstance(value, dict) and isinstance(value.get("key"), str):
        header = value.get("header_name", DEFAULT_API_KEY_HEADER)
        if not isinstance(header, str) or not header:
            raise UsageError(f"{where}: orchestration.auth header_name must be a header name")
        return Auth("ApiKey", value["key"], header)
    raise UsageError(
        f"{where}: orchestration.auth is not an ApiKey or BearerToken method",
        hint=f"write it as {example}",
    )


def _transport(where: str, value: Any) -> str:
    if isinstance(value, str) and value.lower() in _TRANSPORTS:
        return _TRANSPORTS[value.lower()]
    raise UsageError(f"{where}: transport must be 'rest' or 'grpc', not {value!r}")


def _base_url(where: str, value: Any) -> str:
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return value.rstrip("/")
    raise UsageError(
        f"{where}: orchestration.base_url must start with http:// or https://, not {value!r}",
        hint='e.g. base_url = "http://localhost:8080"',
    )


def _typed(where: str, key: str, value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise UsageError(f"{where}: '{key}' must be a {kind.__name__}")
    return value


def _positive(where: str, key: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise UsageError(f"{where}: orchestration.{key} must be a positive integer, not {value!r}")


def _count(where: str, key: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise UsageError(f"{where}: orchestration.{key} must be 0 or more, not {value!r}")

"""Finding a task template by namespace, name and version in the template search path.

Each directory of the search path (see :func:`tasker_ctl.config.template_search_path`) is
searched recursively for ``*.yaml``/``*.yml`` files. Only each file's identifying header (its
top-level ``name``, ``namespace_name`` and ``version``) is read while searching; the chosen file is
then loaded and validated in full by the caller. Without a version, the highest semantic version
wins (a pre-release only when there is no release); the same template in two directories
resolves to the one earlier in the search path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tasker_ctl.errors import NotFoundError
from tasker_ctl.suggest import did_you_mean

TEMPLATE_SUFFIXES = (".yaml", ".yml")
_HEADER_KEYS = ("name", "namespace_name", "version")
_HEADER_LINE = re.compile(r"^(name|namespace_name|version)[ \t]*:(.*)$", re.MULTILINE)
_SEMVER = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class TemplateLocation:
    """A template file and the identity its header declares."""

    path: Path
    namespace: str
    name: str
    version: str

    @property
    def label(self) -> str:
        """``namespace/name v1.2.3``."""
        return f"{self.namespace}/{self.name} v{self.version}"


def version_key(version: str) -> tuple[Any, ...]:
    """A sort key for versions: semantic versions by precedence, above anything else.

    Pre-releases sort below their release (``1.0.0-rc.1 < 1.0.0``); numeric pre-release
    identifiers compare as numbers and below alphanumeric ones, as semver specifies.
    """
    match = _SEMVER.match(version.strip())
    if match is None:
        return (0, version)
    major, minor, patch, pre = match.groups()
    numbers = (int(major), int(minor or 0), int(patch or 0))
    if pre is None:
        return (1, numbers, 1, ())
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
    )
    return (1, numbers, 0, identifiers)


def is_prerelease(version: str) -> bool:
    """True for a semantic version with a pre-release part, such as ``2.0.0-rc.1``."""
    match = _SEMVER.match(version.strip())
    return match is not None and match.group(4) is not None


def read_header(path: Path) -> dict[str, str] | None:
    """The ``name``, ``namespace_name`` and ``version`` a template file declares, or None.

    Top-level keys start in column 0, so they are found without parsing the whole file; a file
    whose header cannot be read that way (flow style, anchors) is parsed in full.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    header: dict[str, str] = {}
    for match in _HEADER_LINE.finditer(text):
        key = match.group(1)
        if key in header:
            continue
        value = _scalar(match.group(2))
        if value is not None:
            header[key] = value
    if len(header) == len(_HEADER_KEYS):
        return header
    return _header_from_document(text)


def _scalar(raw: str) -> str | None:
    try:
        value = yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError:
        return None
    return _as_text(value)


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _header_from_document(text: str) -> dict[str, str] | None:
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    header = {key: _as_text(data.get(key)) for key in _HEADER_KEYS}
    if any(value is None for value in header.values()):
        return None
    return {key: value for key, value in header.items() if value is not None}


def template_files(directories: Iterable[Path]) -> list[Path]:
    """Template files under each existing directory, directory order first, then sorted."""
    files: list[Path] = []
    for directory in directories:
        if directory.is_dir():
            files.extend(
                sorted(
                    p for p in directory.rglob("*") if p.suffix in TEMPLATE_SUFFIXES and p.is_file()
                )
            )
        elif directory.is_file() and directory.suffix in TEMPLATE_SUFFIXES:
            files.append(directory)
    return files


def scan_templates(directories: Sequence[Path]) -> list[TemplateLocation]:
    """Every template found in the search path, in search order (unreadable files skipped)."""
    found: list[TemplateLocation] = []
    for path in template_files(directories):
        header = read_header(path)
        if header is not None:
            found.append(
                TemplateLocation(
                    path=path,
                    namespace=header["namespace_name"],
                    name=header["name"],
                    version=header["version"],
                )
            )
    return found


def find_template(
    directories: Sequence[Path], namespace: str, name: str, version: str | None = None
) -> TemplateLocation:
    """The template ``namespace/name`` (at ``version``, else its highest version).

    Raises ``NotFoundError`` naming the directories searched, close names, or the versions that
    exist.
    """
    available = scan_templates(directories)
    same_name = [t for t in available if t.namespace == namespace and t.name == name]
    if version is not None:
        for location in same_name:
            if location.version == version:
                return location
    elif same_name:
        releases = [t for t in same_name if not is_prerelease(t.version)]
        candidates = releases or same_name
        best = max(version_key(t.version) for t in candidates)
        return next(t for t in candidates if version_key(t.version) == best)
    raise _not_found(directories, available, same_name, f"{namespace}/{name}", version)


def _not_found(
    directories: Sequence[Path],
    available: list[TemplateLocation],
    same_name: list[TemplateLocation],
    qualified_name: str,
    version: str | None,
) -> NotFoundError:
    searched = ", ".join(str(d) for d in directories) or "(no directories)"
    wanted = qualified_name + (f" v{version}" if version else "")
    if same_name:
        versions = ", ".join(sorted({t.version for t in same_name}, key=version_key))
        return NotFoundError(
            f"Template '{wanted}' not found; versions available: {versions}",
            hint="pass one of these with --version, or leave --version out for the highest",
        )
    labels = {f"{t.namespace}/{t.name}" for t in available}
    suggestion = did_you_mean(qualified_name, labels)
    return NotFoundError(
        f"Template '{wanted}' not found in {searched}{suggestion}",
        hint="add the directory that holds it with --templates DIR, TASKER_TEMPLATE_PATH "
        "or template-paths in .tasker-ctl.toml",
    )

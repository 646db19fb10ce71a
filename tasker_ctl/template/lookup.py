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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasker_ctl.errors import NotFoundError, did_you_mean
from tasker_ctl.template.files import TEMPLATE_SUFFIXES, template_files_under

_HEADER_KEYS = ("name", "namespace_name", "version")
_HEADER_LINE = re.compile(r"^(name|namespace_name|version)[ \t]*:(.*)$", re.MULTILINE)
_SEMVER = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
# A plain scalar that YAML reads as exactly its text: a word that is no boolean or null, or a
# dotted version such as 1.2.3 (never a number or a date). Anything else goes to PyYAML.
_PLAIN_TEXT = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_.\-]*|\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.\-+]*)?)$")
_QUOTED_TEXT = re.compile(r"""^(?:"([^"\\]*)"|'([^']*)')[ \t]*(?:#.*)?$""")
_TRAILING_COMMENT = re.compile(r"[ \t]+#.*$")
_NOT_TEXT_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})

if TYPE_CHECKING:
    import yaml


def _loader() -> type[yaml.SafeLoader]:
    import yaml

    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


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

    Top-level keys start in column 0, so they are found without parsing the whole file (and a
    value that is plainly text, as names and versions are, without importing PyYAML); a file
    whose header cannot be read that way (flow style or JSON) is parsed only as far as the three
    keys, and one that uses anchors, aliases or tags there is loaded in full.
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
    if text.lstrip().startswith("{"):
        json_header = _header_from_json(text)
        if json_header is not None:
            return json_header
    return _header_from_document(text)


def _scalar(raw: str) -> str | None:
    text = _plain_text(raw)
    if text is not None:
        return text
    import yaml

    try:
        value = yaml.load(raw, Loader=_loader())
    except (yaml.YAMLError, ValueError):  # ValueError: a date such as 2025-13-45
        return None
    return _as_text(value)


def _plain_text(raw: str) -> str | None:
    """The value of a header line's ``raw`` text when YAML would read it as that very text."""
    quoted = _QUOTED_TEXT.match(raw.strip())
    if quoted is not None:
        return quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    value = _TRAILING_COMMENT.sub("", raw).strip()
    if _PLAIN_TEXT.match(value) is None or value.lower() in _NOT_TEXT_WORDS:
        return None
    return value


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _header_from_json(text: str) -> dict[str, str] | None:
    """The header of a JSON document whose three values are JSON strings (which YAML reads the
    same way); None for anything else, which the YAML reader then decides."""
    import json

    def first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, value in pairs:
            found.setdefault(key, value)
        return found

    try:
        data = json.loads(text, object_pairs_hook=first_wins)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    header = {key: data.get(key) for key in _HEADER_KEYS}
    texts = {key: value for key, value in header.items() if isinstance(value, str)}
    return texts if len(texts) == len(_HEADER_KEYS) else None


class _NeedsFullLoad(Exception):
    """The header uses YAML (anchors, aliases, tags, merge keys) only a full load reads right."""


def _header_from_document(text: str) -> dict[str, str] | None:
    """The header read from the parser's events, stopping once all three keys are seen.

    The keys come first in almost every file, so the rest (all the steps) is never parsed.
    """
    import yaml

    try:
        header = _header_from_events(text)
    except _NeedsFullLoad:
        return _header_from_full_load(text)
    except (yaml.YAMLError, ValueError):
        return None
    if header is None or len(header) < len(_HEADER_KEYS):
        return None
    texts = {key: value for key, value in header.items() if value is not None}
    return texts if len(texts) == len(_HEADER_KEYS) else None


def _header_from_events(text: str) -> dict[str, str | None] | None:
    """``key -> text`` for the header keys found at the top level; None when not a mapping."""
    import yaml

    parser = _loader()(text)
    try:
        next_event: Callable[[], Any] = parser.get_event
        next_event()  # the stream's start
        if not isinstance(next_event(), yaml.DocumentStartEvent):
            return None
        root = next_event()
        _refuse_special(root)
        if not isinstance(root, yaml.MappingStartEvent):
            return None
        header: dict[str, str | None] = {}
        while len(header) < len(_HEADER_KEYS):
            key = next_event()
            if isinstance(key, yaml.MappingEndEvent):
                break
            _refuse_special(key)
            value = next_event()
            _refuse_special(value)
            if not isinstance(key, yaml.ScalarEvent):
                _skip_collection(next_event, key)
            elif key.implicit[0] and key.value == "<<":
                raise _NeedsFullLoad
            if isinstance(value, yaml.CollectionStartEvent):
                _skip_collection(next_event, value)
                text_value = None
            else:
                text_value = _scalar_text(parser, value)
            if isinstance(key, yaml.ScalarEvent) and key.value in _HEADER_KEYS:
                header.setdefault(key.value, text_value)
        return header
    finally:
        parser.dispose()


def _refuse_special(event: Any) -> None:
    import yaml

    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
        raise _NeedsFullLoad
    if getattr(event, "tag", None) is not None:
        raise _NeedsFullLoad


def _skip_collection(next_event: Callable[[], Any], start: Any) -> None:
    """Consume the events of the collection that ``start`` opened."""
    import yaml

    depth = 1
    while depth:
        event = next_event()
        _refuse_special(event)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _scalar_text(parser: Any, event: yaml.ScalarEvent) -> str | None:
    """What a full load would make of the scalar, as header text (see :func:`_as_text`)."""
    import yaml

    if not event.implicit[0]:
        return event.value
    node = yaml.ScalarNode(parser.resolve(yaml.ScalarNode, event.value, (True, False)), event.value)
    return _as_text(parser.construct_object(node))


def _header_from_full_load(text: str) -> dict[str, str] | None:
    import yaml

    try:
        data = yaml.load(text, Loader=_loader())
    except (yaml.YAMLError, ValueError):
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
            files.extend(template_files_under(directory))
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
        "or template-paths in the config file (.config/tasker.toml [cli])",
    )

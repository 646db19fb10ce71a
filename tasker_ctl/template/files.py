"""Which files under a directory are task templates, skipping what linters skip.

Walking a repository finds many YAML files that are not templates: CI workflows, compose files,
files inside virtualenvs and ``node_modules``. A directory walk therefore skips hidden
directories, virtualenvs (a ``pyvenv.cfg``), ``node_modules``, ``__pycache__`` and
``site-packages``, and whatever the repository's ``.gitignore`` files ignore (read with pathspec,
which implements gitignore's rules; a file's patterns apply below its directory). Of the YAML
files left, only those with a top-level ``steps``, ``step_templates`` or ``namespace_name`` key
are templates. A file named explicitly is never skipped: that is for the caller to decide.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TEMPLATE_SUFFIXES = (".yaml", ".yml")
MAX_TEMPLATE_BYTES = 8 * 1024 * 1024
"""A template file over this size is refused before it is read."""
SKIPPED_DIRECTORY_NAMES = frozenset({"node_modules", "__pycache__", "site-packages"})
_KEYS = "steps|step_templates|namespace_name"
_BLOCK_KEY = re.compile(rf"^(?:{_KEYS})\s*:", re.MULTILINE)
_FLOW_KEY = re.compile(rf"[\"']?\b(?:{_KEYS})\b[\"']?\s*:")
_FLOW_DOCUMENT = re.compile(r"\A(?:\s|#[^\n]*\n|---)*\{")


def template_files_under(directory: Path) -> list[Path]:
    """The task templates under ``directory``, sorted, skipping what linters skip."""
    ignores = _ancestor_ignores(directory)
    found: list[Path] = []
    for root, subdirectories, files in os.walk(directory):
        here = Path(root)
        local = _read_ignore(here)
        if local is not None:
            ignores = [*ignores, local]
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if not _skipped_directory(here / name) and not _ignored(here / name, ignores, True)
        )
        found.extend(
            here / name
            for name in files
            if name.endswith(TEMPLATE_SUFFIXES)
            and not _ignored(here / name, ignores, False)
            and looks_like_template(here / name)
        )
    return sorted(found)


def looks_like_template(path: Path) -> bool:
    """Whether a YAML file has a template key at its top level (a text scan, no YAML parsing).

    Block style: a line that starts with the key. Flow style (a document that opens with
    ``{``, such as JSON): the key anywhere in it.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True  # unreadable: let the validator say why
    if _FLOW_DOCUMENT.match(text):
        return _FLOW_KEY.search(text) is not None
    return _BLOCK_KEY.search(text) is not None


def _skipped_directory(path: Path) -> bool:
    name = path.name
    return (
        name.startswith(".") or name in SKIPPED_DIRECTORY_NAMES or (path / "pyvenv.cfg").is_file()
    )


@dataclass(frozen=True)
class _IgnoreFile:
    """The patterns of one ``.gitignore``, which apply below ``base``."""

    base: Path
    spec: Any  # pathspec.GitIgnoreSpec, imported only when a .gitignore exists


def _read_ignore(directory: Path) -> _IgnoreFile | None:
    path = directory / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    import pathspec

    return _IgnoreFile(directory, pathspec.GitIgnoreSpec.from_lines(lines))


def _ancestor_ignores(directory: Path) -> list[_IgnoreFile]:
    """The ``.gitignore`` files above ``directory`` up to its repository's root, outermost first."""
    ignores: list[_IgnoreFile] = []
    for ancestor in _ancestors_in_repository(directory.resolve()):
        ignore = _read_ignore(ancestor)
        if ignore is not None:
            ignores.insert(0, ignore)
    return ignores


def _ancestors_in_repository(directory: Path) -> list[Path]:
    """The directories above ``directory`` up to its repository's root (none outside one)."""
    if (directory / ".git").exists():
        return []
    ancestors: list[Path] = []
    for ancestor in directory.parents:
        ancestors.append(ancestor)
        if (ancestor / ".git").exists():
            return ancestors
    return []


def _ignored(path: Path, ignores: list[_IgnoreFile], is_directory: bool) -> bool:
    absolute = path.resolve()
    for ignore in ignores:
        try:
            relative = absolute.relative_to(ignore.base.resolve()).as_posix()
        except ValueError:
            continue
        if ignore.spec.match_file(relative + "/" if is_directory else relative):
            return True
    return False

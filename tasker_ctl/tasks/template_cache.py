"""What ``task create`` derives from a template file, kept by the file's content (the warm path).

Validating a template means parsing its YAML and building the pydantic template model: most of
what ``task create`` costs beyond start-up. Once a file has been validated, what a create needs
from it is plain JSON: the template's identity and snapshot, its ``input_schema``, the names of
its environments and the steps and edges a new task starts with. That is written to one file
per template content, and the next create of the same bytes reads it instead, importing neither
PyYAML nor pydantic.

Where: the user's cache directory (``$XDG_CACHE_HOME/tasker-ctl/templates``, else
``~/.cache/tasker-ctl/templates``; ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on
Windows). An entry depends on the template's bytes alone, never on a store, so one entry
serves every store and project, a read-only or throw-away ``--db`` does not matter, and the
project tree gets no derived files. Deleting the directory at any time is safe.

Keyed by the SHA-256 of the file's bytes and by the code that validates: tasker-ctl's version
and the size and modification time of the modules that validate a template and plan its steps
(so an editable install being worked on never reads what older code wrote). An entry that is
missing, stale, unreadable or not in the expected shape is ignored, and the full path runs
(and writes a fresh entry); failing to write one is never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from tasker_ctl import __version__

ENTRY_FORMAT = 1
CACHE_DIR_ENV = "XDG_CACHE_HOME"
STEP_KEYS = (
    "name",
    "template_step_name",
    "step_type",
    "handler",
    "retry",
    "max_attempts",
    "retryable",
    "timeout_seconds",
)
"""The keys of a cached step: :class:`~tasker_ctl.store.records.NewStep`'s keyword arguments
without its UUID (a new one for each task)."""
_PACKAGE = Path(__file__).resolve().parent.parent
# Whose code decides what an entry holds: the template package, step planning and this module.
_CODE_DIRECTORIES = (_PACKAGE / "template",)
_CODE_FILES = (
    _PACKAGE / "engine" / "dynamic.py",
    _PACKAGE / "tasks" / "create.py",
    _PACKAGE / "tasks" / "template_cache.py",
    _PACKAGE / "retry.py",
)


class CachedTemplate:
    """A validated template as ``task create`` uses it: identity, snapshot, schema, first steps.

    ``steps`` are the keyword arguments of :class:`tasker_ctl.store.records.NewStep` (without
    a UUID) for the steps a new task starts with, ``edges`` the ``(from, to)`` name pairs.
    """

    __slots__ = (
        "edges",
        "environments",
        "input_schema",
        "name",
        "namespace",
        "snapshot",
        "steps",
        "version",
    )

    def __init__(
        self,
        *,
        namespace: str,
        name: str,
        version: str,
        snapshot: dict[str, Any],
        input_schema: dict[str, Any] | None,
        environments: list[str],
        steps: list[dict[str, Any]],
        edges: list[tuple[str, str]],
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.version = version
        self.snapshot = snapshot
        self.input_schema = input_schema
        self.environments = environments
        self.steps = steps
        self.edges = edges

    @property
    def key(self) -> tuple[str, str, str]:
        """``(namespace, name, version)``."""
        return self.namespace, self.name, self.version

    def to_json(self) -> dict[str, Any]:
        """The entry's payload (without the keys that say which content and code it is for)."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "snapshot": self.snapshot,
            "input_schema": self.input_schema,
            "environments": self.environments,
            "steps": self.steps,
            "edges": [list(edge) for edge in self.edges],
        }


def cache_directory() -> Path | None:
    """``<user cache dir>/tasker-ctl/templates``, or None when there is no home to put it in."""
    base = os.environ.get(CACHE_DIR_ENV)
    if base and Path(base).is_absolute():
        return Path(base) / "tasker-ctl" / "templates"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "tasker-ctl" / "templates"
    home = os.environ.get("HOME")
    if not home:
        return None
    if sys.platform == "darwin":
        return Path(home) / "Library" / "Caches" / "tasker-ctl" / "templates"
    return Path(home) / ".cache" / "tasker-ctl" / "templates"


def read_entry(content: bytes) -> CachedTemplate | None:
    """The entry for a template file holding ``content``, or None (then validate in full)."""
    located = _entry_path(content)
    if located is None:
        return None
    path, content_hash, code = located
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if (data.get("format"), data.get("code"), data.get("sha256")) != (
        ENTRY_FORMAT,
        code,
        content_hash,
    ):
        return None
    return _entry_from_json(data)


def write_entry(content: bytes, entry: CachedTemplate) -> None:
    """Keep ``entry`` for ``content``; written whole or not at all, and silently skipped when
    the cache directory cannot be written."""
    located = _entry_path(content)
    if located is None:
        return
    path, content_hash, code = located
    payload = {"format": ENTRY_FORMAT, "code": code, "sha256": content_hash, **entry.to_json()}
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(payload, separators=(",", ":")))
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError):
        return  # a cache that cannot be written only costs the next create its validation


def _entry_path(content: bytes) -> tuple[Path, str, str] | None:
    directory = cache_directory()
    if directory is None:
        return None
    code = code_fingerprint()
    content_hash = hashlib.sha256(content).hexdigest()
    name = hashlib.sha256(f"{code}\0{content_hash}".encode()).hexdigest()
    return directory / f"{name}.json", content_hash, code


def code_fingerprint() -> str:
    """tasker-ctl's version and the size and mtime of the modules an entry's content comes from."""
    parts = [__version__]
    files = [
        Path(entry.path)
        for directory in _CODE_DIRECTORIES
        for entry in _scan(directory)
        if entry.name.endswith(".py")
    ]
    for path in sorted(files) + list(_CODE_FILES):
        try:
            found = path.stat()
        except OSError:
            parts.append(f"{path.name}:-")
            continue
        parts.append(f"{path.name}:{found.st_size}:{found.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _scan(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except OSError:
        return []


def _entry_from_json(data: dict[str, Any]) -> CachedTemplate | None:
    """The entry in ``data``, or None unless every part has the type a create relies on."""
    namespace, name, version = data.get("namespace"), data.get("name"), data.get("version")
    snapshot, schema = data.get("snapshot"), data.get("input_schema")
    environments, steps, edges = data.get("environments"), data.get("steps"), data.get("edges")
    if not (isinstance(namespace, str) and isinstance(name, str) and isinstance(version, str)):
        return None
    if not isinstance(snapshot, dict):
        return None
    if schema is not None and not isinstance(schema, dict):
        return None
    if not isinstance(environments, list) or not all(isinstance(e, str) for e in environments):
        return None
    if not isinstance(steps, list) or not all(_is_step(step) for step in steps):
        return None
    if not isinstance(edges, list) or not all(_is_edge(edge) for edge in edges):
        return None
    return CachedTemplate(
        namespace=namespace,
        name=name,
        version=version,
        snapshot=snapshot,
        input_schema=schema,
        environments=environments,
        steps=steps,
        edges=[(edge[0], edge[1]) for edge in edges],
    )


def _is_step(step: Any) -> bool:
    if not isinstance(step, dict) or set(step) != set(STEP_KEYS):
        return False
    texts = (step["name"], step["template_step_name"], step["step_type"])
    timeout = step["timeout_seconds"]
    return (
        all(isinstance(text, str) for text in texts)
        and isinstance(step["handler"], dict)
        and isinstance(step["retry"], dict)
        and type(step["max_attempts"]) is int
        and isinstance(step["retryable"], bool)
        and (timeout is None or type(timeout) is int)
    )


def _is_edge(edge: Any) -> bool:
    return isinstance(edge, list) and len(edge) == 2 and all(isinstance(name, str) for name in edge)

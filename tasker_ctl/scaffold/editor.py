"""Editor wiring for ``init``: the template JSON Schema, mapped to the templates in VS Code.

``init`` writes the schema (``tasker-ctl template schema``) to :data:`SCHEMA_FILE` and a
``yaml.schemas`` entry in ``.vscode/settings.json`` that maps it to the template directory, so
the YAML language server completes and checks templates as they are typed.

An existing ``settings.json`` is merged, never replaced: every key it has is kept, and the
entry is added to its ``yaml.schemas`` (or its globs to the ones already mapped to the schema).
A file that is not plain JSON (VS Code allows comments) or whose ``yaml.schemas`` is not an
object is left exactly as it is, and ``init`` says what to add by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_FILE = ".config/tasker-template.schema.json"
SETTINGS_FILE = ".vscode/settings.json"
SCHEMAS_KEY = "yaml.schemas"


def template_globs(templates_dir: str) -> list[str]:
    """The files of the template directory the schema applies to."""
    return [f"{templates_dir}/**/*.yaml", f"{templates_dir}/**/*.yml"]


@dataclass(frozen=True)
class SettingsPlan:
    """What happens to ``.vscode/settings.json``: its new text (None: left alone) and why."""

    content: str | None
    exists: bool
    problem: str | None = None  # why an existing file is left alone though it lacks the entry


def plan_settings(directory: Path, templates_dir: str) -> SettingsPlan:
    """The settings file with the schema mapped to the templates, merged into what is there."""
    path = directory / SETTINGS_FILE
    globs = template_globs(templates_dir)
    if not path.exists():
        return SettingsPlan(_dump({SCHEMAS_KEY: {SCHEMA_FILE: globs}}), exists=False)
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return SettingsPlan(None, exists=True, problem="it is not plain JSON (comments?)")
    if not isinstance(settings, dict):
        return SettingsPlan(None, exists=True, problem="it is not a JSON object")
    schemas = settings.setdefault(SCHEMAS_KEY, {})
    if not isinstance(schemas, dict):
        return SettingsPlan(None, exists=True, problem=f'its "{SCHEMAS_KEY}" is not an object')
    found = schemas.get(SCHEMA_FILE, [])
    if not (isinstance(found, str) or _strings(found)):
        problem = f"its {SCHEMA_FILE} entry is not a list of globs"
        return SettingsPlan(None, exists=True, problem=problem)
    mapped: list[str] = [found] if isinstance(found, str) else list(found)
    missing = [glob for glob in globs if glob not in mapped]
    if not missing:
        return SettingsPlan(None, exists=True)
    schemas[SCHEMA_FILE] = [*mapped, *missing]
    return SettingsPlan(_dump(settings), exists=True)


def manual_entry(templates_dir: str) -> str:
    """The ``yaml.schemas`` entry to add by hand, as one line of JSON."""
    return json.dumps({SCHEMAS_KEY: {SCHEMA_FILE: template_globs(templates_dir)}})


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _dump(settings: dict[str, Any]) -> str:
    return json.dumps(settings, indent=4, ensure_ascii=False) + "\n"

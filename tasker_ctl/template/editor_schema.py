"""The JSON Schema of the task-template format, for editors and tools.

Derived from the pydantic model every template is validated with, so it cannot drift from what
``template validate`` accepts. Editors with the YAML language server pick it up from a
``# yaml-language-server: $schema=…`` line or from their settings (``init`` wires VS Code).
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def template_json_schema() -> dict[str, Any]:
    """The task-template format as a JSON Schema (2020-12) document."""
    from tasker_ctl.template.models import TaskTemplate

    schema = TaskTemplate.model_json_schema(mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Tasker task template",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def template_schema_text() -> str:
    """The schema as ``template schema`` prints it and ``init`` writes it: indented JSON."""
    return json.dumps(template_json_schema(), indent=2) + "\n"

"""The orchestration API contract, read from the OpenAPI document shipped beside this module.

Each operation (by ``operationId``) gives its method and path, the statuses it declares, the
schema of each response and the permission it needs (``x-required-permission``). Responses are
checked with jsonschema-rs against the document's own schemas (formats as annotations), so what
tasker-ctl accepts is derived from the document, not restated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema_rs

DOCUMENT_PATH = Path(__file__).with_name("openapi.json")
_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    """One operation of the API."""

    operation_id: str
    method: str
    path: str
    permission: str | None
    responses: dict[str, Any]

    def url_path(self, **parameters: str) -> str:
        """The path with its ``{parameters}`` filled in (each percent-encoded)."""
        from urllib.parse import quote

        path = self.path
        for name, value in parameters.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return path

    def declares(self, status: int) -> bool:
        """Whether the contract lists ``status`` for this operation."""
        return str(status) in self.responses


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document (read once)."""
    loaded: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def operations() -> dict[str, Operation]:
    """Every operation of the document by ``operationId``."""
    found: dict[str, Operation] = {}
    for path, item in document()["paths"].items():
        for method in _METHODS:
            spec = item.get(method)
            if spec is None:
                continue
            found[spec["operationId"]] = Operation(
                operation_id=spec["operationId"],
                method=method.upper(),
                path=path,
                permission=spec.get("x-required-permission"),
                responses=spec.get("responses", {}),
            )
    return found


def operation(operation_id: str) -> Operation:
    """The operation called ``operation_id`` (a KeyError is a bug in tasker-ctl)."""
    return operations()[operation_id]


def api_version() -> str:
    """The API version the document describes."""
    return str(document()["info"]["version"])


def tolerated(operation_id: str, body: Any) -> Any:
    """``body`` with the one known deviation of real servers from the document mended.

    tasker-core's ``TemplateDetail.configuration`` is an ``Option`` that its service sets to
    ``None`` ("don't expose full config via API"), so servers send ``"configuration": null``
    although the document declares a required object. It is read as ``{}`` (nothing to compare).
    """
    if (
        operation_id == "get_template"
        and isinstance(body, dict)
        and body.get("configuration", 0) is None
    ):
        return {**body, "configuration": {}}
    return body


def response_problems(operation_id: str, status: int, body: Any) -> list[str]:
    """How ``body`` breaks the JSON schema declared for ``status`` (``$.path: message`` each)."""
    spec = operation(operation_id).responses.get(str(status), {})
    schema = spec.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return []
    validator = _validator(json.dumps(schema, sort_keys=True))
    problems = []
    for error in validator.iter_errors(body):
        where = "$" + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.instance_path
        )
        problems.append(f"{where}: {error.message.splitlines()[0]}")
    return problems


@cache
def _validator(schema_text: str) -> jsonschema_rs.Validator:
    import jsonschema_rs

    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **json.loads(schema_text),
        "components": document()["components"],
    }
    return jsonschema_rs.validator_for(root)

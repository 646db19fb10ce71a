"""A Tasker server's registered templates, and the promote check of a local template against them.

``list_templates`` and ``template_detail`` read ``GET /v1/templates[/{ns}/{name}/{version}]``.
``promote_check`` answers, for each local template, whether the server has that
namespace/name/version and whether its copy differs: the step names, each step's ``retryable``
and ``max_attempts`` (what the detail's ``steps`` carry), and the dependencies and handlers when
the detail's ``configuration`` holds the whole template. What it cannot compare, it says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasker_ctl.errors import NotFoundError

if TYPE_CHECKING:
    from tasker_ctl.remote.client import ServerClient
    from tasker_ctl.store.records import JsonObject
    from tasker_ctl.template.models import TaskTemplate


@dataclass(frozen=True)
class ServerTemplate:
    """One registered template as the server lists it."""

    namespace: str
    name: str
    version: str
    description: str | None
    step_count: int

    def to_json(self) -> JsonObject:
        """One item of ``task templates --format json``."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "step_count": self.step_count,
        }


@dataclass(frozen=True)
class ServerTemplateList:
    """``task templates``: the templates and the namespaces with their template counts."""

    templates: tuple[ServerTemplate, ...]
    namespaces: tuple[tuple[str, int], ...]
    total: int

    def to_json(self) -> JsonObject:
        """``{"templates": [...], "namespaces": [{name, template_count}], "total"}``."""
        return {
            "templates": [template.to_json() for template in self.templates],
            "namespaces": [{"name": n, "template_count": c} for n, c in self.namespaces],
            "total": self.total,
        }


@dataclass(frozen=True)
class ServerStep:
    """A step of a server template's detail."""

    name: str
    retryable: bool
    max_attempts: int
    description: str | None


@dataclass(frozen=True)
class ServerTemplateDetail:
    """``task templates show NAMESPACE NAME VERSION``."""

    namespace: str
    name: str
    version: str
    description: str | None
    steps: tuple[ServerStep, ...]
    configuration: JsonObject

    def to_json(self) -> JsonObject:
        """The detail as the server sent it, steps in its order."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "steps": [
                {
                    "name": s.name,
                    "default_retryable": s.retryable,
                    "default_max_attempts": s.max_attempts,
                    "description": s.description,
                }
                for s in self.steps
            ],
            "configuration": self.configuration,
        }


@dataclass(frozen=True)
class PromoteReport:
    """What the server has of one local template."""

    path: Path
    namespace: str
    name: str
    version: str
    registered: bool
    differences: tuple[str, ...] = ()
    compared: tuple[str, ...] = ()
    not_compared: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        """``namespace/name v1.0.0``."""
        return f"{self.namespace}/{self.name} v{self.version}"

    @property
    def same(self) -> bool:
        """Registered, and no difference in what could be compared."""
        return self.registered and not self.differences

    def to_json(self) -> JsonObject:
        """One item of the promote check in JSON."""
        return {
            "path": str(self.path),
            "namespace": self.namespace,
            "name": self.name,
            "version": self.version,
            "registered": self.registered,
            "differences": list(self.differences),
            "compared": list(self.compared),
            "not_compared": list(self.not_compared),
        }


def list_templates(client: ServerClient, namespace: str | None = None) -> ServerTemplateList:
    """``GET /v1/templates`` (optionally one namespace)."""
    answer = client.call("list_templates", query={"namespace": namespace})
    return ServerTemplateList(
        templates=tuple(
            ServerTemplate(
                namespace=t["namespace"],
                name=t["name"],
                version=t["version"],
                description=t.get("description"),
                step_count=int(t["step_count"]),
            )
            for t in answer["templates"]
        ),
        namespaces=tuple((n["name"], int(n["template_count"])) for n in answer["namespaces"]),
        total=int(answer["total_count"]),
    )


def template_detail(
    client: ServerClient, namespace: str, name: str, version: str
) -> ServerTemplateDetail:
    """``GET /v1/templates/{namespace}/{name}/{version}``; ``NotFoundError`` when not registered."""
    answer = client.call(
        "get_template",
        path={"namespace": namespace, "name": name, "version": version},
        not_found=NotFoundError(
            f"{client.label} has no template {namespace}/{name} v{version}",
            hint="see what it has with `tasker-ctl task templates`",
        ),
    )
    return ServerTemplateDetail(
        namespace=answer["namespace"],
        name=answer["name"],
        version=answer["version"],
        description=answer.get("description"),
        steps=tuple(
            ServerStep(
                name=s["name"],
                retryable=bool(s["default_retryable"]),
                max_attempts=int(s["default_max_attempts"]),
                description=s.get("description"),
            )
            for s in answer["steps"]
        ),
        configuration=answer["configuration"],
    )


def template_from_configuration(configuration: Any) -> TaskTemplate | None:
    """The whole template when a detail's ``configuration`` holds one (upstream may omit it)."""
    if not isinstance(configuration, dict) or not isinstance(configuration.get("steps"), list):
        return None
    from pydantic import ValidationError

    from tasker_ctl.template.models import TaskTemplate

    try:
        return TaskTemplate.from_snapshot(configuration)
    except ValidationError:
        return None


def promote_check(client: ServerClient, paths: Iterable[Path]) -> list[PromoteReport]:
    """For each valid local template file: is it registered on the server, and does it differ?"""
    from tasker_ctl.template.validation import load_template

    reports = []
    for path in paths:
        template = load_template(path)
        reports.append(compare_template(client, template, path))
    return reports


def compare_template(client: ServerClient, template: TaskTemplate, path: Path) -> PromoteReport:
    """The promote check of one loaded template."""
    key = (template.namespace_name, template.name, template.version)
    try:
        detail = template_detail(client, *key)
    except NotFoundError:
        return PromoteReport(path, *key, registered=False)
    differences: list[str] = []
    local_steps = {step.name: step for step in template.steps}
    server_steps = {step.name: step for step in detail.steps}
    for missing in sorted(set(local_steps) - set(server_steps)):
        differences.append(f"step '{missing}' is not in the server's copy")
    for extra in sorted(set(server_steps) - set(local_steps)):
        differences.append(f"the server's copy has a step '{extra}' that the file does not")
    for name in sorted(set(local_steps) & set(server_steps)):
        local, server = local_steps[name].retry, server_steps[name]
        if local.retryable != server.retryable:
            differences.append(
                f"step '{name}': retryable is {local.retryable} here, {server.retryable} there"
            )
        if local.max_attempts != server.max_attempts:
            differences.append(
                f"step '{name}': max_attempts is {local.max_attempts} here, "
                f"{server.max_attempts} there"
            )
    compared = ["steps", "retryable", "max_attempts"]
    not_compared: list[str] = []
    server_template = template_from_configuration(detail.configuration)
    if server_template is None:
        not_compared = ["dependencies", "handlers"]
    else:
        compared += ["dependencies", "handlers"]
        server_by_name = {step.name: step for step in server_template.steps}
        for name in sorted(set(local_steps) & set(server_by_name)):
            here, there = local_steps[name], server_by_name[name]
            if sorted(here.dependencies) != sorted(there.dependencies):
                differences.append(
                    f"step '{name}': depends on {_names(here.dependencies)} here, "
                    f"{_names(there.dependencies)} there"
                )
            if here.handler.callable != there.handler.callable:
                differences.append(
                    f"step '{name}': handler {here.handler.callable} here, "
                    f"{there.handler.callable} there"
                )
    return PromoteReport(
        path,
        *key,
        registered=True,
        differences=tuple(differences),
        compared=tuple(compared),
        not_compared=tuple(not_compared),
    )


def _names(names: Iterable[str]) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "nothing"

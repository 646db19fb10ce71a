"""Creating a task: the template found and checked, the input checked, task and steps stored.

Imports the template model (pydantic) and PyYAML only when the template file is new or changed
(see :mod:`tasker_ctl.tasks.template_cache`), and jsonschema-rs only when the template has an
``input_schema``; reading commands need none of them.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasker_ctl.errors import InvalidDataError, UsageError, did_you_mean
from tasker_ctl.store import open_for_writing
from tasker_ctl.store.records import NewStep, NewTask

if TYPE_CHECKING:
    from tasker_ctl.tasks.template_cache import CachedTemplate
    from tasker_ctl.template.lookup import TemplateLocation
    from tasker_ctl.template.models import TaskTemplate
from tasker_ctl.tasks.views import SOURCE_SYSTEM, CreatedTask


@dataclass(frozen=True)
class CreateRequest:
    """Everything ``task create`` needs; ``input`` is already decoded JSON."""

    namespace: str
    name: str
    input: Any
    search_path: Sequence[Path]
    db_path: Path
    version: str | None = None
    initiator: str | None = None
    reason: str | None = None
    correlation_id: str | None = None
    validate_input: bool = True
    environment: str | None = None
    """``environments.<name>`` to apply; an error when the template lacks it, unless…"""
    environment_optional: bool = False
    """…this is set (an environment from the project config applies only where defined)."""
    priority: int = 5
    """1 (lowest) to 10, as Tasker's ``task create --priority``; stored and shown."""
    description: str | None = None
    input_given: bool = True
    """False when the caller gave no input and ``input`` is the empty default ``{}``: a template
    whose ``input_schema`` does not accept ``{}`` then asks for input (a usage error)."""
    idempotency_key: str | None = None
    """Sent to a Tasker server (it refuses a second task with the same key); not kept locally."""
    tags: tuple[str, ...] = ()
    """Sent to a Tasker server; not kept locally."""


def require_local_fields(request: CreateRequest) -> None:
    """Refuse what only a Tasker server keeps: an idempotency key and tags (a local task has
    neither, and silently dropping them would let a script believe it deduplicates)."""
    given = [
        option
        for option, value in (
            ("--idempotency-key", request.idempotency_key),
            ("--tag", request.tags),
        )
        if value
    ]
    if given:
        raise UsageError(
            f"{' and '.join(given)}: only a Tasker server keeps "
            f"{'these' if len(given) > 1 else 'this'}; a local task has no tags and no "
            "idempotency key",
            hint="create the task on a server with `tasker-ctl --profile NAME task create …`, "
            "or leave the option out",
        )


def create_task(request: CreateRequest) -> CreatedTask:
    """Find and validate the template, check the input, store task, steps and edges at once.

    A template file validated before (the same bytes, the same tasker-ctl) is not parsed or
    validated again: what a create needs from it comes from :mod:`tasker_ctl.tasks.template_cache`.
    """
    require_local_fields(request)
    from tasker_ctl.template.lookup import find_template

    location = find_template(request.search_path, request.namespace, request.name, request.version)
    environment, prepared = _prepare(location, request)
    if not isinstance(request.input, dict):
        raise InvalidDataError(
            f"the task input must be a JSON object, not {_json_kind(request.input)}",
            hint="wrap the values in an object, e.g. --input '{\"order_id\": 42}'",
        )
    from tasker_ctl.tasks.inputs import require_nesting_within_limit

    require_nesting_within_limit(request.input, "the task input")
    if request.validate_input and prepared.input_schema is not None:
        from tasker_ctl.tasks.inputs import require_valid_input

        require_valid_input(
            prepared.input_schema,
            request.input,
            what=f"{location.label} ({location.path})",
            given=request.input_given,
        )
    correlation_id = new_correlation_id(request.correlation_id)
    steps = [NewStep(**fields) for fields in prepared.steps]
    new_task = NewTask(
        namespace=prepared.namespace,
        name=prepared.name,
        version=prepared.version,
        input=request.input,
        snapshot=prepared.snapshot,
        template_path=str(location.path),
        initiator=request.initiator,
        reason=request.reason,
        source_system=SOURCE_SYSTEM,
        correlation_id=correlation_id,
        environment=environment,
        priority=request.priority,
        description=request.description,
    )
    with open_for_writing(request.db_path) as repository:
        task = repository.create_task(new_task, steps, prepared.edges)
    return CreatedTask(
        task_uuid=task.uuid,
        status=task.state,
        name=task.name,
        namespace=task.namespace,
        version=task.version,
        created_at=task.created_at,
        template_path=str(location.path),
        steps=tuple((step.name, step.uuid) for step in steps),
        environment=environment,
        priority=task.priority,
        description=task.description,
    )


def _prepare(
    location: TemplateLocation, request: CreateRequest
) -> tuple[str | None, CachedTemplate]:
    """The environment to apply and what the create needs from the template.

    From the cache when the file's bytes were validated before and no environment applies;
    otherwise the file is validated in full (and, without an environment, cached).
    """
    from tasker_ctl.tasks import template_cache
    from tasker_ctl.template.files import MAX_TEMPLATE_BYTES

    content: bytes | None = None  # unread: the full path reports why (unreadable, too large)
    try:
        if location.path.stat().st_size <= MAX_TEMPLATE_BYTES:
            content = location.path.read_bytes()
    except OSError:
        pass
    cached = template_cache.read_entry(content) if content is not None else None
    if cached is not None and cached.key == (location.namespace, location.name, location.version):
        environment = _environment_for(request, cached.environments)
        if environment is None:
            return None, cached
    template = _load_checked(location, content)
    environment = _environment_for(request, list(template.environments))
    if environment is not None:
        template = _with_environment(template, environment, location.path)
    prepared = _validated(template)
    if environment is None and content is not None:
        template_cache.write_entry(content, prepared)
    return environment, prepared


def _load_checked(location: TemplateLocation, content: bytes | None) -> TaskTemplate:
    """The template at ``location`` validated in full (from ``content`` when it was read)."""
    from tasker_ctl.template.validation import load_template

    text = None
    if content is not None:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = None  # the full read reports it
    template = load_template(location.path, text)
    if template.key != (location.namespace, location.name, location.version):
        raise InvalidDataError(
            f"{location.path}: its header names {location.label} but the file loads as "
            f"{template.namespace_name}/{template.name} v{template.version}",
            hint=f"run 'tasker-ctl template validate {location.path}'",
        )
    return template


def _environment_for(request: CreateRequest, defined: list[str]) -> str | None:
    """The environment to apply: the one asked for, or none when it is optional and absent."""
    environment = request.environment
    if environment is not None and request.environment_optional and environment not in defined:
        return None
    return environment


def _validated(template: TaskTemplate) -> CachedTemplate:
    """What a create takes from a validated template, as the cache keeps it."""
    from tasker_ctl.tasks.template_cache import STEP_KEYS, CachedTemplate

    steps, edges = _initial_steps(template)
    return CachedTemplate(
        namespace=template.namespace_name,
        name=template.name,
        version=template.version,
        snapshot=template.to_snapshot(),
        input_schema=template.input_schema,
        environments=sorted(template.environments),
        steps=[{key: getattr(step, key) for key in STEP_KEYS} for step in steps],
        edges=edges,
    )


def new_steps_for(template: TaskTemplate, names: Sequence[str]) -> list[NewStep]:
    """Steps to create for the template steps ``names`` (their definitions copied as JSON)."""
    from tasker_ctl.engine.dynamic import new_step

    return [new_step(template.step_named(name)) for name in names]


def _initial_steps(template: TaskTemplate) -> tuple[list[NewStep], list[tuple[str, str]]]:
    """The steps a task starts with and their edges.

    Beyond reference §6.1, a step that depends on a step created later (e.g. a report after a
    batch's convergence step) is created later too, with what it depends on, so that it never
    runs early for want of an edge.
    """
    from tasker_ctl.template.graph import initial_step_names

    dependencies = {step.name: step.dependencies for step in template.steps}
    names = initial_step_names(template)
    deferred = set(dependencies) - set(names)
    while True:
        waiting = [n for n in names if any(d in deferred for d in dependencies[n])]
        if not waiting:
            break
        deferred.update(waiting)
        names = [n for n in names if n not in deferred]
    created = set(names)
    edges = [
        (dependency, name)
        for name in names
        for dependency in dependencies[name]
        if dependency in created
    ]
    return new_steps_for(template, names), edges


def _with_environment(template: TaskTemplate, environment: str, path: Path) -> TaskTemplate:
    """The template with ``environments.<environment>`` applied (reference §1.7)."""
    if environment not in template.environments:
        known = sorted(template.environments)
        hint = (
            f"environments it defines: {', '.join(known)}"
            if known
            else "it defines no environments; leave out --env"
        )
        raise UsageError(
            f"{path}: the template has no environment '{environment}'"
            f"{did_you_mean(environment, known)}",
            hint=hint,
        )
    return template.with_environment(environment)


def new_correlation_id(given: str | None) -> str:
    """The correlation id of a new task: ``given`` as a canonical UUID, else a random one."""
    if given is None:
        return str(uuid_module.uuid4())
    try:
        return str(uuid_module.UUID(given))
    except ValueError as exc:
        raise UsageError(
            f"--correlation-id '{given}' is not a UUID",
            hint="give a UUID such as 0190f3f4-8a62-7cc1-b1a5-3f7c2b0e4d11, or leave it out",
        ) from exc


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"

"""The rules a parsed template is checked against, in the reference's order, then ours.

The first group reproduces Tasker's SDK validator exactly (codes, severities, message texts and
order, reference §2.2); the second adds the checks tasker-ctl recommends (reference §2.8).
Each rule reads the template and the source lines and appends findings; none imports handlers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tasker_ctl.template import composition, graph
from tasker_ctl.template.findings import Finding, Severity
from tasker_ctl.template.json_schema import JsonPath, schema_problems
from tasker_ctl.template.models import RetryPolicy, StepDefinition, StepType, TaskTemplate
from tasker_ctl.template.source import SourceDocument

NAMESPACE_MAX_BYTES = 29
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_NAMESPACE_CHARS = re.compile(r"^[A-Za-z0-9_]+$")
_EVENT_NAME_CHARS = re.compile(r"^[a-z0-9_.]+$")
_PUBLISHER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*((::|\.)[A-Za-z_][A-Za-z0-9_]*)*$")

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass
class RuleContext:
    """The template under check, where its parts are in the file, and the findings so far."""

    template: TaskTemplate
    source: SourceDocument
    findings: list[Finding] = field(default_factory=list)
    has_cycles: bool = False

    def __post_init__(self) -> None:
        self.names = {step.name for step in self.template.steps}
        # With duplicate names the first definition wins; the duplicate is reported on its own.
        self.dependencies: dict[str, tuple[str, ...]] = {}
        for step in self.template.steps:
            self.dependencies.setdefault(step.name, step.dependencies)
        self.dependents = graph.dependents_map(self.dependencies)
        self.by_name = {step.name: step for step in reversed(self.template.steps)}

    def steps(self) -> Iterator[tuple[int, StepDefinition]]:
        """Each step with its index in the file."""
        return enumerate(self.template.steps)

    def add(
        self, code: str, severity: Severity, message: str, step: str | None, path: JsonPath
    ) -> None:
        """Record a finding at the line of ``path`` in the file."""
        self.findings.append(Finding(code, severity, message, step, self.source.line_of(path)))

    def step_key(self, index: int, *keys: str) -> JsonPath:
        """Path to the first of ``keys`` that step ``index`` actually uses (for aliases)."""
        raw = self.source.data["steps"][index]
        for key in keys:
            if isinstance(raw, dict) and key in raw:
                return ("steps", index, key)
        return ("steps", index)


Rule = Callable[[RuleContext], None]


# --- The reference SDK validator (reference §2.2), in its order ----------------------------


def duplicate_step_names(ctx: RuleContext) -> None:
    seen: set[str] = set()
    for index, step in ctx.steps():
        if step.name in seen:
            ctx.add(
                "DUPLICATE_STEP_NAME",
                ERROR,
                f"Duplicate step name: '{step.name}'",
                step.name,
                ("steps", index, "name"),
            )
        seen.add(step.name)


def dependency_references(ctx: RuleContext) -> None:
    for index, step in ctx.steps():
        key = ctx.step_key(index, "dependencies", "depends_on")
        for position, dependency in enumerate(step.dependencies):
            path = (*key, position) if len(key) == 3 else key
            if dependency == step.name:
                message = f"Step '{step.name}' depends on itself"
                ctx.add("SELF_DEPENDENCY", ERROR, message, step.name, path)
            elif dependency not in ctx.names:
                message = f"Step '{step.name}' depends on '{dependency}' which does not exist"
                ctx.add("MISSING_DEP_REF", ERROR, message, step.name, path)


def empty_callables(ctx: RuleContext) -> None:
    for index, step in ctx.steps():
        if step.handler.callable == "":
            message = f"Step '{step.name}' has an empty handler callable"
            ctx.add("EMPTY_CALLABLE", ERROR, message, step.name, ("steps", index, "handler"))


def namespace_length(ctx: RuleContext) -> None:
    namespace = ctx.template.namespace_name
    size = len(namespace.encode("utf-8"))
    if size > NAMESPACE_MAX_BYTES:
        message = f"Namespace '{namespace}' is {size} chars (max 29 for PGMQ queue names)"
        ctx.add("NAMESPACE_TOO_LONG", WARNING, message, None, ("namespace_name",))


def result_schemas(ctx: RuleContext) -> None:
    for index, step in ctx.steps():
        schema = step.result_schema
        if schema is None:
            message = f"Step '{step.name}' has no result_schema defined"
            ctx.add("NO_RESULT_SCHEMA", INFO, message, step.name, ("steps", index))
        elif "type" in schema and schema["type"] != "object":
            shown = schema["type"] if isinstance(schema["type"], str) else "unknown"
            message = f"Step '{step.name}' result_schema type is '{shown}', expected 'object'"
            ctx.add(
                "SCHEMA_NOT_OBJECT", WARNING, message, step.name, ("steps", index, "result_schema")
            )


def orphan_steps(ctx: RuleContext) -> None:
    if len(ctx.template.steps) <= 1:
        return
    for index, step in ctx.steps():
        if not step.dependencies and not ctx.dependents.get(step.name):
            message = f"Step '{step.name}' has no dependencies and nothing depends on it"
            ctx.add("ORPHAN_STEP", WARNING, message, step.name, ("steps", index))


def compositions(ctx: RuleContext) -> None:
    """A step's ``composition:`` block: its shape, its output against ``result_schema``, and the
    ``grammar:`` callable convention (Tasker's checks that need no capability registry)."""
    for index, step in ctx.steps():
        if step.composition is None:
            continue
        path = ("steps", index, "composition")
        problem = composition.parse_error(step.composition)
        if problem is not None:
            message = f"failed to parse composition: {problem}"
            ctx.add("COMPOSITION_PARSE_ERROR", ERROR, message, step.name, path)
            continue
        if step.result_schema is not None:
            produced = composition.output_schema(step.composition)
            for severity, message in composition.schema_compatibility(produced, step.result_schema):
                ctx.add("COMPOSITION_RESULT_SCHEMA_MISMATCH", severity, message, step.name, path)
        callable_name = step.handler.callable
        if not callable_name.startswith(composition.GRAMMAR_PREFIX):
            message = (
                f"step has a composition but callable '{callable_name}' does not use the "
                "'grammar:' prefix"
            )
            handler_path = ("steps", index, "handler")
            ctx.add("COMPOSITION_CALLABLE_CONVENTION", WARNING, message, step.name, handler_path)


def cycles(ctx: RuleContext) -> None:
    index_of = {step.name: i for i, step in reversed(list(ctx.steps()))}
    for cycle in graph.find_cycles(ctx.dependencies):
        ctx.has_cycles = True
        message = "Dependency cycle detected: " + " -> ".join(cycle)
        ctx.add("CYCLE_DETECTED", ERROR, message, cycle[0], ("steps", index_of[cycle[0]]))


REFERENCE_RULES: tuple[Rule, ...] = (
    duplicate_step_names,
    dependency_references,
    empty_callables,
    namespace_length,
    result_schemas,
    orphan_steps,
    compositions,
    cycles,
)


# --- tasker-ctl's additions (reference §2.8) --------------------------------------------------


def at_least_one_step(ctx: RuleContext) -> None:
    if not ctx.template.steps:
        message = "Template has no steps; a task needs at least one"
        ctx.add("NO_STEPS", ERROR, message, None, ("steps",))


def version_format(ctx: RuleContext) -> None:
    version = ctx.template.version
    if not _SEMVER.match(version):
        # Only a number (version: 1.0) needs quotes; a string just needs the x.y.z form.
        written_as_number = isinstance(ctx.source.data.get("version"), int | float)
        fix = 'quote it and write e.g. "1.0.0"' if written_as_number else 'write e.g. "1.0.0"'
        message = f"Version '{version}' is not in x.y.z form; {fix}"
        ctx.add("INVALID_VERSION", WARNING, message, None, ("version",))


def namespace_characters(ctx: RuleContext) -> None:
    namespace = ctx.template.namespace_name
    if not namespace:
        problem = "is empty"
    elif not _NAMESPACE_CHARS.match(namespace):
        problem = "contains characters other than letters, digits and underscores"
    elif not (namespace[0].isalpha() or namespace[0] == "_"):
        problem = "must start with a letter or an underscore"
    else:
        return
    message = f"Namespace '{namespace}' {problem}"
    ctx.add("INVALID_NAMESPACE", ERROR, message, None, ("namespace_name",))


def decision_steps(ctx: RuleContext) -> None:
    for index, step in ctx.steps():
        if step.step_type is not StepType.DECISION:
            continue
        if not step.dependencies:
            message = f"Decision step '{step.name}' must have at least one dependency"
            ctx.add("DECISION_NO_PARENT", ERROR, message, step.name, ("steps", index))
        if not ctx.dependents.get(step.name):
            message = (
                f"Decision step '{step.name}' has no dependents, so it has no branches to choose"
            )
            ctx.add("DECISION_NO_CHILDREN", WARNING, message, step.name, ("steps", index))


def batch_steps(ctx: RuleContext) -> None:
    by_name = ctx.by_name
    for index, step in ctx.steps():
        if step.batch_config is not None:
            target = by_name.get(step.batch_config.worker_template)
            if target is None or target.step_type is not StepType.BATCH_WORKER:
                message = (
                    f"Step '{step.name}' batch_config.worker_template "
                    f"'{step.batch_config.worker_template}' names no batch_worker step"
                )
                path = ("steps", index, "batch_config", "worker_template")
                ctx.add("BATCH_WORKER_TEMPLATE_MISSING", ERROR, message, step.name, path)
        if step.step_type is StepType.BATCH_WORKER:
            if step.batch_config is None:
                message = f"Batch worker step '{step.name}' has no batch_config"
                ctx.add("BATCH_CONFIG_MISSING", ERROR, message, step.name, ("steps", index))
            batchable_parents = [
                d for d in step.dependencies if _type_of(by_name, d) is StepType.BATCHABLE
            ]
            if len(batchable_parents) != 1 or len(step.dependencies) != 1:
                message = (
                    f"Batch worker step '{step.name}' must depend on exactly one batchable step"
                )
                ctx.add("BATCH_WORKER_PARENT", ERROR, message, step.name, ("steps", index))
        if step.step_type is StepType.BATCHABLE and "worker_template_name" not in (
            step.handler.initialization
        ):
            message = (
                f"Batchable step '{step.name}' has no handler.initialization.worker_template_name;"
                " a no-batches outcome will need it"
            )
            ctx.add("NO_BATCHES_TEMPLATE_NAME", INFO, message, step.name, ("steps", index))
        if step.step_type is not StepType.DEFERRED_CONVERGENCE:
            for dependency in step.dependencies:
                if _type_of(by_name, dependency) is StepType.BATCH_WORKER:
                    message = (
                        f"Step '{step.name}' depends on batch worker '{dependency}'; only a "
                        "deferred_convergence step may"
                    )
                    ctx.add("BATCH_WORKER_DEPENDENT", ERROR, message, step.name, ("steps", index))


def convergence_steps(ctx: RuleContext) -> None:
    decisions = [s.name for s in ctx.template.steps if s.step_type is StepType.DECISION]
    dynamic = graph.descendants(ctx.dependencies, decisions) | {
        s.name for s in ctx.template.steps if s.step_type is StepType.BATCH_WORKER
    }
    for index, step in ctx.steps():
        if step.step_type is StepType.DEFERRED_CONVERGENCE and not dynamic.intersection(
            step.dependencies
        ):
            message = (
                f"Deferred convergence step '{step.name}' depends on no decision branch or "
                "batch worker; make it a standard step"
            )
            ctx.add(
                "CONVERGENCE_WITHOUT_DYNAMIC_PARENT", WARNING, message, step.name, ("steps", index)
            )


def retry_ranges(ctx: RuleContext) -> None:
    for index, step in ctx.steps():
        for severity, problem in _retry_problems(step.retry):
            message = f"Step '{step.name}' retry {problem}"
            ctx.add("RETRY_OUT_OF_RANGE", severity, message, step.name, ("steps", index, "retry"))


def _retry_problems(retry: RetryPolicy) -> Iterator[tuple[Severity, str]]:
    """What is odd about a retry block. ``max_attempts: 0`` is fine (Tasker runs the step once,
    without retries); backoffs below the declared minimums are only remarks, since Tasker
    declares those minimums but never enforces them."""
    if retry.max_attempts > 100:
        yield WARNING, f"max_attempts {retry.max_attempts} is outside 0..100"
        return
    base, cap = retry.backoff_base_ms, retry.max_backoff_ms
    if base is not None and cap is not None and cap < base:
        yield WARNING, f"max_backoff_ms {cap} is below backoff_base_ms {base}"
        return
    if base is not None and base < 100:
        yield INFO, f"backoff_base_ms {base} is below 100"
    elif cap is not None and cap < 1000:
        yield INFO, f"max_backoff_ms {cap} is below 1000"


def event_declarations(ctx: RuleContext) -> None:
    for index, step in ctx.steps():
        seen: set[str] = set()
        for position, event in enumerate(step.publishes_events):
            path = ("steps", index, "publishes_events", position)
            for problem in _event_name_problems(event.name):
                message = f"Step '{step.name}', Event '{event.name}': {problem}"
                ctx.add("INVALID_EVENT_DECLARATION", ERROR, message, step.name, (*path, "name"))
            if event.publisher is not None and not event.publisher.strip():
                message = (
                    f"Step '{step.name}', Event '{event.name}': Publisher name cannot be empty"
                )
                ctx.add("INVALID_EVENT_DECLARATION", ERROR, message, step.name, path)
            elif event.publisher is not None and not _PUBLISHER.match(event.publisher):
                message = (
                    f"Step '{step.name}', Event '{event.name}': publisher '{event.publisher}' "
                    "must be identifiers joined by '::' or '.'"
                )
                ctx.add("INVALID_EVENT_DECLARATION", ERROR, message, step.name, path)
            for problem, where in schema_problems(event.event_schema):
                message = (
                    f"Step '{step.name}', Event '{event.name}': Invalid JSON Schema: {problem}"
                )
                schema_path = (*path, "schema", *where)
                ctx.add("INVALID_EVENT_DECLARATION", ERROR, message, step.name, schema_path)
            if event.name in seen:
                message = (
                    f"Step '{step.name}', Event '{event.name}': Duplicate event name "
                    f"'{event.name}' - only the last declaration will be used"
                )
                ctx.add("INVALID_EVENT_DECLARATION", WARNING, message, step.name, path)
            seen.add(event.name)


def _event_name_problems(name: str) -> Iterator[str]:
    prefix = f"Event name '{name}'"
    if "." not in name:
        yield f"{prefix} must contain at least one dot (namespace.action format)"
    if name.startswith(".") or name.endswith("."):
        yield f"{prefix} must not start or end with a dot"
    if ".." in name:
        yield f"{prefix} must not contain consecutive dots"
    if not _EVENT_NAME_CHARS.match(name):
        yield f"{prefix} must contain only lowercase letters, numbers, underscores, and dots"


def json_schemas(ctx: RuleContext) -> None:
    if ctx.template.input_schema is not None:
        for problem, where in schema_problems(ctx.template.input_schema):
            message = f"input_schema is not a valid JSON Schema: {problem}"
            ctx.add("INPUT_SCHEMA_INVALID", ERROR, message, None, ("input_schema", *where))
    for index, step in ctx.steps():
        if step.result_schema is None:
            continue
        for problem, where in schema_problems(step.result_schema):
            message = f"Step '{step.name}' result_schema is not a valid JSON Schema: {problem}"
            path = ("steps", index, "result_schema", *where)
            ctx.add("RESULT_SCHEMA_INVALID", ERROR, message, step.name, path)


def unsafe_callables(ctx: RuleContext) -> None:
    """A callable in the standard library or builtins is never called; said from the name alone."""
    from tasker_ctl.template.callables import refusal_by_name

    for index, step in ctx.steps():
        reason = refusal_by_name(step.handler.callable)
        if reason is not None:
            message = (
                f"Step '{step.name}' handler callable '{step.handler.callable}' is refused: "
                f"{reason}; only step handlers and your own handler code are called"
            )
            path = ("steps", index, "handler", "callable")
            ctx.add("UNSAFE_CALLABLE", ERROR, message, step.name, path)


def _type_of(by_name: dict[str, StepDefinition], name: str) -> StepType | None:
    step = by_name.get(name)
    return step.step_type if step else None


EXTENSION_RULES: tuple[Rule, ...] = (
    at_least_one_step,
    version_format,
    namespace_characters,
    decision_steps,
    batch_steps,
    convergence_steps,
    retry_ranges,
    event_declarations,
    json_schemas,
    unsafe_callables,
)


def run_rules(template: TaskTemplate, source: SourceDocument) -> RuleContext:
    """Apply every rule, reference rules first, and return the context with its findings."""
    ctx = RuleContext(template, source)
    for rule in (*REFERENCE_RULES, *EXTENSION_RULES):
        rule(ctx)
    return ctx

"""The validator's rules: the reference's codes and exact messages, then tasker-ctl's additions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tasker_ctl.template.findings import Finding, Severity
from tasker_ctl.template.validation import validate_file

WriteTemplate = Callable[..., Path]  # the write_template fixture in tests/conftest.py

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


def template(*steps: str, namespace: str = "tests", version: str = "1.0.0") -> str:
    """A template whose steps are given as YAML flow mappings, one per line."""
    lines = [f"name: t\nnamespace_name: {namespace}\nversion: {version}\nsteps:\n"]
    lines += [f"  - {step}\n" for step in steps]
    return "".join(lines)


def step(name: str, *deps: str, extra: str = "") -> str:
    dependencies = f", dependencies: [{', '.join(deps)}]" if deps else ""
    return f"{{name: {name}, handler: {{callable: h.{name.title()}}}{dependencies}{extra}}}"


def findings(write_template: WriteTemplate, text: str) -> list[Finding]:
    return validate_file(write_template(text)).findings


def with_code(found: list[Finding], code: str) -> list[Finding]:
    return [f for f in found if f.code == code]


# --- Reference codes (§2.2): code, severity, step and exact message ------------------------

REFERENCE_CASES = [
    pytest.param(
        template(step("a"), step("b", "a"), step("a", "b")),
        ("DUPLICATE_STEP_NAME", ERROR, "a", "Duplicate step name: 'a'", 7),
        id="DUPLICATE_STEP_NAME",
    ),
    pytest.param(
        template(step("a", "a")),
        ("SELF_DEPENDENCY", ERROR, "a", "Step 'a' depends on itself", 5),
        id="SELF_DEPENDENCY",
    ),
    pytest.param(
        template(step("a"), step("b", "a", "x")),
        ("MISSING_DEP_REF", ERROR, "b", "Step 'b' depends on 'x' which does not exist", 6),
        id="MISSING_DEP_REF",
    ),
    pytest.param(
        template('{name: a, handler: {callable: ""}}'),
        ("EMPTY_CALLABLE", ERROR, "a", "Step 'a' has an empty handler callable", 5),
        id="EMPTY_CALLABLE",
    ),
    pytest.param(
        template(step("a"), namespace="n" * 30),
        (
            "NAMESPACE_TOO_LONG",
            WARNING,
            None,
            f"Namespace '{'n' * 30}' is 30 chars (max 29 for PGMQ queue names)",
            2,
        ),
        id="NAMESPACE_TOO_LONG",
    ),
    pytest.param(
        template(step("a", extra=", result_schema: {type: array}")),
        (
            "SCHEMA_NOT_OBJECT",
            WARNING,
            "a",
            "Step 'a' result_schema type is 'array', expected 'object'",
            5,
        ),
        id="SCHEMA_NOT_OBJECT",
    ),
    pytest.param(
        template(step("a", extra=", result_schema: {type: [object, 'null']}")),
        (
            "SCHEMA_NOT_OBJECT",
            WARNING,
            "a",
            "Step 'a' result_schema type is 'unknown', expected 'object'",
            5,
        ),
        id="SCHEMA_NOT_OBJECT-non-string-type",
    ),
    pytest.param(
        template(step("a")),
        ("NO_RESULT_SCHEMA", INFO, "a", "Step 'a' has no result_schema defined", 5),
        id="NO_RESULT_SCHEMA",
    ),
    pytest.param(
        template(step("a"), step("b")),
        ("ORPHAN_STEP", WARNING, "b", "Step 'b' has no dependencies and nothing depends on it", 6),
        id="ORPHAN_STEP",
    ),
    pytest.param(
        template(step("a", "b"), step("b", "c"), step("c", "a")),
        ("CYCLE_DETECTED", ERROR, "a", "Dependency cycle detected: a -> b -> c -> a", 5),
        id="CYCLE_DETECTED",
    ),
]


@pytest.mark.parametrize(("text", "expected"), REFERENCE_CASES)
def test_reference_codes_and_exact_messages(
    write_template: WriteTemplate,
    text: str,
    expected: tuple[str, Severity, str | None, str, int],
) -> None:
    code, severity, step_name, message, line = expected

    found = with_code(findings(write_template, text), code)

    assert Finding(code, severity, message, step_name, line) in found


def test_reference_findings_come_in_the_reference_order(write_template: WriteTemplate) -> None:
    text = template(
        step("a", "x", "y"),
        step("a"),
        step("loop", "loop", extra=", result_schema: {type: string}"),
        '{name: empty, handler: {callable: ""}}',
        step("lonely"),
        namespace="n" * 30,
    )

    codes = [f.code for f in findings(write_template, text) if f.code != "NO_RESULT_SCHEMA"]

    assert codes == [
        "DUPLICATE_STEP_NAME",
        "MISSING_DEP_REF",
        "MISSING_DEP_REF",
        "SELF_DEPENDENCY",
        "EMPTY_CALLABLE",
        "NAMESPACE_TOO_LONG",
        "SCHEMA_NOT_OBJECT",
        "ORPHAN_STEP",  # the second 'a'
        "ORPHAN_STEP",  # empty
        "ORPHAN_STEP",  # lonely
        "CYCLE_DETECTED",
    ]


def test_self_dependency_is_also_a_cycle(write_template: WriteTemplate) -> None:
    report = validate_file(write_template(template(step("a", "a"))))

    assert [f.code for f in report.findings if f.severity is ERROR] == [
        "SELF_DEPENDENCY",
        "CYCLE_DETECTED",
    ]
    assert with_code(report.findings, "CYCLE_DETECTED")[0].message.endswith(": a -> a")
    assert report.has_cycles


def test_a_single_step_is_never_an_orphan(write_template: WriteTemplate) -> None:
    assert not with_code(findings(write_template, template(step("a"))), "ORPHAN_STEP")


def test_connected_steps_are_not_orphans(write_template: WriteTemplate) -> None:
    text = template(step("a"), step("b", "a"), step("c", "ghost"))

    assert not with_code(findings(write_template, text), "ORPHAN_STEP")


@pytest.mark.parametrize(
    ("namespace", "too_long"),
    [("n" * 29, False), ("n" * 30, True), ("é" * 15, True), ("é" * 14, False)],
)
def test_namespace_length_counts_bytes(
    write_template: WriteTemplate, namespace: str, too_long: bool
) -> None:
    found = with_code(
        findings(write_template, template(step("a"), namespace=namespace)), "NAMESPACE_TOO_LONG"
    )

    assert bool(found) is too_long


@pytest.mark.parametrize("schema", ["{type: object}", "{properties: {a: {type: string}}}"])
def test_object_or_untyped_result_schemas_are_fine(
    write_template: WriteTemplate, schema: str
) -> None:
    found = findings(write_template, template(step("a", extra=f", result_schema: {schema}")))

    assert not {"SCHEMA_NOT_OBJECT", "NO_RESULT_SCHEMA"} & {f.code for f in found}


def test_warnings_alone_leave_a_template_valid(write_template: WriteTemplate) -> None:
    report = validate_file(write_template(template(step("a"), step("b"), namespace="n" * 30)))

    assert report.count(WARNING) == 3
    assert report.valid


# --- tasker-ctl's extension codes (§2.8) ---------------------------------------------------

BATCH = (
    "batch_config: {batch_size: 10, parallelism: 2, cursor_field: id, worker_template: work,"
    " failure_strategy: isolate}"
)

EXTENSION_CASES = [
    pytest.param(
        "name: t\nnamespace_name: tests\nversion: 1.0.0\nsteps: []\n",
        ("NO_STEPS", ERROR, None, "Template has no steps; a task needs at least one"),
        id="NO_STEPS",
    ),
    pytest.param(
        template(step("a"), version="1.0"),
        (
            "INVALID_VERSION",
            WARNING,
            None,
            "Version '1.0' is not in x.y.z form; quote it and write e.g. \"1.0.0\"",
        ),
        id="INVALID_VERSION",
    ),
    pytest.param(
        template(step("a"), namespace="my-namespace"),
        (
            "INVALID_NAMESPACE",
            ERROR,
            None,
            "Namespace 'my-namespace' contains characters other than letters, digits and "
            "underscores",
        ),
        id="INVALID_NAMESPACE-characters",
    ),
    pytest.param(
        template(step("a"), namespace="'1orders'"),
        (
            "INVALID_NAMESPACE",
            ERROR,
            None,
            "Namespace '1orders' must start with a letter or an underscore",
        ),
        id="INVALID_NAMESPACE-first-character",
    ),
    pytest.param(
        template(step("a"), namespace="''"),
        ("INVALID_NAMESPACE", ERROR, None, "Namespace '' is empty"),
        id="INVALID_NAMESPACE-empty",
    ),
    pytest.param(
        template(step("d", extra=", type: decision"), step("b", "d")),
        ("DECISION_NO_PARENT", ERROR, "d", "Decision step 'd' must have at least one dependency"),
        id="DECISION_NO_PARENT",
    ),
    pytest.param(
        template(step("a"), step("d", "a", extra=", type: decision")),
        (
            "DECISION_NO_CHILDREN",
            WARNING,
            "d",
            "Decision step 'd' has no dependents, so it has no branches to choose",
        ),
        id="DECISION_NO_CHILDREN",
    ),
    pytest.param(
        template(
            step("split", extra=", type: batchable"),
            step("work", "split", extra=", type: batch_worker"),
        ),
        ("BATCH_CONFIG_MISSING", ERROR, "work", "Batch worker step 'work' has no batch_config"),
        id="BATCH_CONFIG_MISSING",
    ),
    pytest.param(
        template(step("a"), step("work", "a", extra=f", type: batch_worker, {BATCH}")),
        (
            "BATCH_WORKER_PARENT",
            ERROR,
            "work",
            "Batch worker step 'work' must depend on exactly one batchable step",
        ),
        id="BATCH_WORKER_PARENT",
    ),
    pytest.param(
        template(
            step("split", extra=", type: batchable"),
            step("work", "split", extra=f", type: batch_worker, {BATCH.replace('work,', 'wrk,')}"),
        ),
        (
            "BATCH_WORKER_TEMPLATE_MISSING",
            ERROR,
            "work",
            "Step 'work' batch_config.worker_template 'wrk' names no batch_worker step",
        ),
        id="BATCH_WORKER_TEMPLATE_MISSING",
    ),
    pytest.param(
        template(
            step("split", extra=", type: batchable"),
            step("work", "split", extra=f", type: batch_worker, {BATCH}"),
            step("after", "work"),
        ),
        (
            "BATCH_WORKER_DEPENDENT",
            ERROR,
            "after",
            "Step 'after' depends on batch worker 'work'; only a deferred_convergence step may",
        ),
        id="BATCH_WORKER_DEPENDENT",
    ),
    pytest.param(
        template(step("a"), step("join", "a", extra=", type: deferred_convergence")),
        (
            "CONVERGENCE_WITHOUT_DYNAMIC_PARENT",
            WARNING,
            "join",
            "Deferred convergence step 'join' depends on no decision branch or batch worker; "
            "make it a standard step",
        ),
        id="CONVERGENCE_WITHOUT_DYNAMIC_PARENT",
    ),
    pytest.param(
        template(
            step("split", extra=", type: batchable"),
            step("work", "split", extra=f", type: batch_worker, {BATCH}"),
        ),
        (
            "NO_BATCHES_TEMPLATE_NAME",
            INFO,
            "split",
            "Batchable step 'split' has no handler.initialization.worker_template_name; a "
            "no-batches outcome will need it",
        ),
        id="NO_BATCHES_TEMPLATE_NAME",
    ),
    pytest.param(
        template(step("a", extra=", result_schema: {type: object, required: 5}")),
        (
            "RESULT_SCHEMA_INVALID",
            ERROR,
            "a",
            "Step 'a' result_schema is not a valid JSON Schema: 5 is not of type \"array\" "
            "(at required)",
        ),
        id="RESULT_SCHEMA_INVALID",
    ),
]


@pytest.mark.parametrize(("text", "expected"), EXTENSION_CASES)
def test_extension_codes(
    write_template: WriteTemplate, text: str, expected: tuple[str, Severity, str | None, str]
) -> None:
    code, severity, step_name, message = expected

    found = with_code(findings(write_template, text), code)

    assert [(f.severity, f.step, f.message) for f in found] == [(severity, step_name, message)]
    assert found[0].line is not None


@pytest.mark.parametrize(
    ("retry", "severity", "problem"),
    [
        ("{max_attempts: 101}", WARNING, "max_attempts 101 is outside 0..100"),
        (
            "{backoff_base_ms: 5000, max_backoff_ms: 2000}",
            WARNING,
            "max_backoff_ms 2000 is below backoff_base_ms 5000",
        ),
        # Below the minimums Tasker declares but never enforces (its own fixtures use them).
        ("{backoff_base_ms: 50}", INFO, "backoff_base_ms 50 is below 100"),
        ("{max_backoff_ms: 500}", INFO, "max_backoff_ms 500 is below 1000"),
    ],
)
def test_retry_out_of_range(
    write_template: WriteTemplate, retry: str, severity: Severity, problem: str
) -> None:
    found = with_code(
        findings(write_template, template(step("a", extra=f",\n      retry: {retry}"))),
        "RETRY_OUT_OF_RANGE",
    )

    assert [(f.severity, f.message, f.line) for f in found] == [
        (severity, f"Step 'a' retry {problem}", 6)
    ]


@pytest.mark.parametrize(
    "retry",
    [
        "{max_attempts: 0}",  # one attempt, no retry: supported and tested upstream
        "{max_attempts: 1}",
        "{max_attempts: 100, backoff_base_ms: 100, max_backoff_ms: 1000}",
    ],
)
def test_retry_in_range(write_template: WriteTemplate, retry: str) -> None:
    text = template(step("a", extra=f", retry: {retry}"))

    assert not with_code(findings(write_template, text), "RETRY_OUT_OF_RANGE")


def _event(name: str, extra: str = "") -> str:
    return f"{{name: '{name}', description: d, schema: {{type: object}}{extra}}}"


@pytest.mark.parametrize(
    ("events", "severity", "problem"),
    [
        (
            [_event("orderdone")],
            ERROR,
            "Event name 'orderdone' must contain at least one dot (namespace.action format)",
        ),
        (
            [_event(".order.done")],
            ERROR,
            "Event name '.order.done' must not start or end with a dot",
        ),
        (
            [_event("order..done")],
            ERROR,
            "Event name 'order..done' must not contain consecutive dots",
        ),
        (
            [_event("Order.Done")],
            ERROR,
            "Event name 'Order.Done' must contain only lowercase letters, numbers, underscores,"
            " and dots",
        ),
        ([_event("order.done", ", publisher: ' '")], ERROR, "Publisher name cannot be empty"),
        (
            ["{name: order.done, description: d, schema: {type: nope}}"],
            ERROR,
            "Invalid JSON Schema: ",
        ),
        (
            [_event("order.done"), _event("order.done")],
            WARNING,
            "Duplicate event name 'order.done' - only the last declaration will be used",
        ),
    ],
)
def test_invalid_event_declarations(
    write_template: WriteTemplate, events: list[str], severity: Severity, problem: str
) -> None:
    text = template(step("a", extra=f", publishes_events: [{', '.join(events)}]"))
    event_name = events[-1].split("name: ")[1].split(",")[0].strip("'")

    found = with_code(findings(write_template, text), "INVALID_EVENT_DECLARATION")

    assert len(found) == 1
    assert found[0].severity is severity
    assert found[0].message.startswith(f"Step 'a', Event '{event_name}': {problem}")


def test_well_formed_events_pass(write_template: WriteTemplate) -> None:
    events = _event("order.payment_done", ", publisher: billing::Publisher, condition: always")
    text = template(step("a", extra=f", publishes_events: [{events}]"))

    assert not with_code(findings(write_template, text), "INVALID_EVENT_DECLARATION")


@pytest.mark.parametrize(
    ("first", "second"), [("dependencies", "depends_on"), ("type", "step_type")]
)
def test_duplicate_alias_keys(write_template: WriteTemplate, first: str, second: str) -> None:
    values = {
        "dependencies": "[a]",
        "depends_on": "[a]",
        "type": "standard",
        "step_type": "standard",
    }
    text = template(
        step("a"),
        f"{{name: b, handler: {{callable: h.B}},\n"
        f"      {first}: {values[first]}, {second}: {values[second]}}}",
    )

    found = with_code(findings(write_template, text), "DUPLICATE_ALIAS_KEY")

    assert len(found) == 1
    assert (found[0].severity, found[0].step, found[0].line) == (ERROR, "b", 6)
    assert f"both '{first}' and '{second}' are given" in found[0].message


def test_well_formed_decision_and_batch_workflow_has_no_warnings(
    write_template: WriteTemplate,
) -> None:
    text = template(
        step("start"),
        step("route", "start", extra=", type: decision"),
        step("branch", "route"),
        step("merge", "branch", extra=", type: deferred_convergence"),
        "{name: split, type: batchable, dependencies: [merge],\n"
        "      handler: {callable: h.S, initialization: {worker_template_name: work}}}",
        step("work", "split", extra=f", type: batch_worker, {BATCH}"),
        step("join", "work", extra=", type: deferred_convergence"),
    )

    found = findings(write_template, text)

    assert [f for f in found if f.severity is not INFO] == []

"""The pydantic template model: defaults, aliases, coercions, strictness, snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from tasker_ctl.retry import RetryPolicy as Policy
from tasker_ctl.template.models import (
    Backoff,
    RetryPolicy,
    StepDefinition,
    StepType,
    TaskTemplate,
)


def _template(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "t",
        "namespace_name": "tests",
        "version": "1.0.0",
        "steps": [{"name": "a", "handler": {"callable": "handlers.A"}}],
    }
    data.update(overrides)
    return data


def _step(**fields: Any) -> StepDefinition:
    return StepDefinition.model_validate({"name": "a", "handler": {"callable": "h.A"}, **fields})


def test_absent_retry_block_gets_the_full_default_policy() -> None:
    retry = _step().retry

    assert (retry.retryable, retry.max_attempts, retry.backoff) == (True, 3, Backoff.EXPONENTIAL)
    assert (retry.backoff_base_ms, retry.max_backoff_ms) == (1000, 30000)


def policy_of(retry: RetryPolicy) -> Policy:
    """The policy the engine applies for this retry block, as stored with the task."""
    return Policy.from_mapping(retry.model_dump(mode="json"))


def test_present_retry_block_defaults_each_key_and_leaves_base_and_cap_unset() -> None:
    retry = _step(retry={"max_attempts": 5}).retry

    assert (retry.retryable, retry.max_attempts, retry.backoff) == (True, 5, Backoff.EXPONENTIAL)
    assert (retry.backoff_base_ms, retry.max_backoff_ms) == (None, None)
    applied = policy_of(retry)
    assert (applied.base_ms, applied.cap_ms) == (1000, 30000)


def test_explicit_base_and_cap_are_kept() -> None:
    retry = RetryPolicy(backoff_base_ms=50, max_backoff_ms=200)

    applied = policy_of(retry)
    assert (applied.base_ms, applied.cap_ms) == (50, 200)


def test_depends_on_and_step_type_are_aliases() -> None:
    aliased = _step(depends_on=["x", "y"], step_type="decision")
    canonical = _step(dependencies=["x", "y"], type="decision")

    assert aliased == canonical
    assert aliased.dependencies == ("x", "y")
    assert aliased.step_type is StepType.DECISION


def test_step_defaults() -> None:
    step = _step()

    assert step.step_type is StepType.STANDARD
    assert step.dependencies == ()
    assert step.handler.initialization == {}
    assert step.handler.method is None
    assert step.result_schema is None


@pytest.mark.parametrize(
    ("first", "second"), [("dependencies", "depends_on"), ("type", "step_type")]
)
def test_both_keys_of_an_alias_pair_are_rejected(first: str, second: str) -> None:
    values = {"dependencies": [], "depends_on": [], "type": "standard", "step_type": "standard"}

    with pytest.raises(ValidationError) as raised:
        _step(**{first: values[first], second: values[second]})

    (error,) = raised.value.errors()
    assert error["type"] == "duplicate_alias_key"
    assert f"both '{first}' and '{second}'" in error["msg"]


@pytest.mark.parametrize(
    ("spelling", "suggestion"),
    [
        ("decision_point", "decision"),
        ("deferred", "deferred_convergence"),
        ("convergence", "deferred_convergence"),
        ("batchabel", "batchable"),
    ],
)
def test_unknown_step_types_are_rejected_with_a_suggestion(spelling: str, suggestion: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _step(type=spelling)

    (error,) = raised.value.errors()
    assert error["type"] == "invalid_step_type"
    assert f"unknown step type '{spelling}'; use '{suggestion}'" in error["msg"]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [("1.0.0", "1.0.0"), ("1.0", "1.0"), ("2", "2"), ('"3.1.4"', "3.1.4")],
)
def test_scalar_version_is_coerced_to_text(yaml_text: str, expected: str) -> None:
    version = yaml.safe_load(f"version: {yaml_text}")["version"]

    template = TaskTemplate.model_validate(_template(version=version))

    assert template.version == expected
    assert template.key == ("tests", "t", expected)


def test_boolean_version_is_not_coerced() -> None:
    with pytest.raises(ValidationError):
        TaskTemplate.model_validate(_template(version=True))


def test_unknown_keys_are_ignored_by_the_model() -> None:
    template = TaskTemplate.model_validate(_template(task_handler={"class": "X"}))

    assert not hasattr(template, "task_handler")


def test_step_named() -> None:
    template = TaskTemplate.model_validate(_template())

    assert template.step_named("a").handler.callable == "handlers.A"
    with pytest.raises(KeyError):
        template.step_named("missing")


FULL_TEMPLATE = """
name: full
namespace_name: tests
version: 1.2.3
description: every block at least once
metadata: {author: me, tags: [x, y], created_at: "2025-01-02T03:04:05Z"}
system_dependencies: {primary: db, secondary: [cache]}
domain_events: [{name: order.done, schema: {type: object}}]
input_schema: {type: object, properties: {n: {type: integer}}}
lifecycle: {max_duration_minutes: 60, staleness_action: error}
steps:
  - name: split
    type: batchable
    handler: {callable: h.Split, method: run, resolver: explicit_mapping,
              initialization: {worker_template_name: work}}
    retry: {max_attempts: 2}
    timeout_seconds: 10
    publishes_events:
      - {name: batch.split, description: split done, schema: {type: object},
         condition: always, delivery_mode: fast, publisher: a::B}
  - name: work
    step_type: batch_worker
    handler: {callable: h.Work}
    depends_on: [split]
    batch_config: {batch_size: 10, parallelism: 2, cursor_field: id, worker_template: work,
                   failure_strategy: isolate}
    result_schema: {type: object}
  - name: join
    type: deferred_convergence
    handler: {callable: h.Join}
    dependencies: [work]
environments:
  test:
    steps: [{name: ALL, handler: {initialization: {fast: true}}, retry: {max_attempts: 1}}]
"""


def test_snapshot_round_trip_of_every_block() -> None:
    template = TaskTemplate.model_validate(yaml.safe_load(FULL_TEMPLATE))

    snapshot = template.to_snapshot()

    assert TaskTemplate.from_snapshot(snapshot) == template
    assert snapshot["steps"][1]["type"] == "batch_worker"
    assert snapshot["steps"][0]["publishes_events"][0]["schema"] == {"type": "object"}
    assert yaml.safe_load(yaml.safe_dump(snapshot)) == snapshot  # plain JSON-ready values


def test_snapshot_round_trip_of_bundled_templates(bundled_templates: Path) -> None:
    for path in sorted(bundled_templates.glob("*.yaml")):
        template = TaskTemplate.model_validate(yaml.safe_load(path.read_text()))
        assert TaskTemplate.from_snapshot(template.to_snapshot()) == template, path.name


def test_templates_are_frozen() -> None:
    template = TaskTemplate.model_validate(_template())

    with pytest.raises(ValidationError):
        template.name = "other"  # type: ignore[misc]
